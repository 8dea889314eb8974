namespace Mesh;

/// <summary>
/// Opts an actor implementation class into reentrancy: its activations may start a new message while an earlier
/// one is awaiting, instead of the default turn-based execution of one message at a time.
/// </summary>
/// <remarks>
/// Reentrant actors must protect their own state across <c>await</c>s. Messages still start in arrival order.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ReentrantAttribute : Attribute
{
}
