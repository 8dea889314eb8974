namespace Mesh;

/// <summary>
/// Optional hooks an actor implementation class can implement to run code when it is activated and deactivated.
/// </summary>
public interface IActorLifecycle
{
    /// <summary>Runs once after the instance is created and before it receives its first message.</summary>
    /// <param name="cancellationToken">Canceled when activation is abandoned, for example at shutdown.</param>
    /// <returns>A task that completes when the actor is ready. If it throws, the triggering call fails.</returns>
    ValueTask OnActivateAsync(CancellationToken cancellationToken);

    /// <summary>Runs once after the last message, before the instance is released.</summary>
    /// <param name="reason">Why the activation ends.</param>
    /// <param name="cancellationToken">Canceled when the runtime stops waiting, for example at the shutdown timeout.</param>
    /// <returns>A task that completes when the actor has released what it holds.</returns>
    ValueTask OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken);
}
