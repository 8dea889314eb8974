namespace Mesh;

/// <summary>Why an activation ends.</summary>
public enum DeactivationReason
{
    /// <summary>The activation received no message for the configured idle time.</summary>
    Idle = 0,

    /// <summary>The actor asked for it with <see cref="IActorContext.DeactivateOnIdle"/>.</summary>
    Requested = 1,

    /// <summary>The host is shutting down.</summary>
    Shutdown = 2,

    /// <summary>The cluster changed and another node now owns the actor.</summary>
    Rebalanced = 3,

    /// <summary>Activation failed: the constructor or <see cref="IActorLifecycle.OnActivateAsync"/> threw.</summary>
    ActivationFailed = 4,
}
