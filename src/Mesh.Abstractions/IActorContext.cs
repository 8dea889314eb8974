namespace Mesh;

/// <summary>
/// What an activation knows about itself. Inject it through the actor class's constructor.
/// </summary>
/// <example>
/// <code>
/// public sealed class Counter(IActorContext context) : ICounter { ... }
/// </code>
/// </example>
public interface IActorContext
{
    /// <summary>Gets the id of this actor.</summary>
    ActorId Id { get; }

    /// <summary>Gets the mesh, to call other actors.</summary>
    IMesh Mesh { get; }

    /// <summary>Gets a token that is canceled when this activation starts to deactivate.</summary>
    CancellationToken Deactivating { get; }

    /// <summary>
    /// Asks the runtime to deactivate this activation once the current message has finished; the next call to
    /// the same id activates a new instance.
    /// </summary>
    void DeactivateOnIdle();
}
