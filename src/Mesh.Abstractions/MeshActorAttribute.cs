namespace Mesh;

/// <summary>
/// Declares an interface as a Mesh actor contract. The Mesh source generator emits a proxy, the request and
/// response messages with their serializers, and a dispatch table for every interface that carries it.
/// </summary>
/// <remarks>
/// The <see cref="Capability"/> decides placement: a call to the actor is routed to a node that has registered
/// that capability. Several contracts may share one capability.
/// </remarks>
/// <example>
/// <code>
/// [MeshActor("counter")]
/// public interface ICounter : IMeshActor
/// {
///     ValueTask&lt;int&gt; IncrementAsync(int by = 1, CancellationToken ct = default);
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class MeshActorAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="MeshActorAttribute"/> class.</summary>
    /// <param name="capability">
    /// The capability that nodes register to host this actor; lower case, matching <c>^[a-z][a-z0-9_.-]*$</c>.
    /// </param>
    public MeshActorAttribute(string capability)
    {
        Capability = capability;
    }

    /// <summary>Gets the capability a node must have to host this actor.</summary>
    public string Capability { get; }
}
