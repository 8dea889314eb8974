namespace Mesh;

/// <summary>
/// Makes an actor method a cast (fire-and-forget): the returned task completes once the message is accepted
/// for delivery, and the caller never observes the actor's result or exception.
/// </summary>
/// <remarks>The method must return <see cref="ValueTask"/> or <see cref="Task"/>.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class OneWayAttribute : Attribute
{
}
