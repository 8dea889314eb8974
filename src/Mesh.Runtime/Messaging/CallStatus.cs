namespace Mesh.Messaging;

/// <summary>The first byte of every answer to a <see cref="ClusterService.Call"/> request: how the call went on the
/// node that received it. What follows depends on it (see <see cref="CallResponse"/>).</summary>
internal enum CallStatus : byte
{
    /// <summary>The actor ran the call; the method's serialized result follows.</summary>
    Ok = 0,

    /// <summary>The actor method threw; its exception's type name, message and stack text follow. The caller gets
    /// <see cref="ActorInvocationException"/>, as for a local call.</summary>
    ActorError = 1,

    /// <summary>The receiver's view does not make it the owner and it could not forward the call (hop limit, or the owner
    /// is unknown to it). Retryable: the caller retries once its own view may have changed.</summary>
    NotOwner = 2,

    /// <summary>No node in the receiver's view has the capability. The caller gets <see cref="CapabilityUnavailableException"/>.</summary>
    CapabilityUnavailable = 3,

    /// <summary>The call's deadline passed on the receiver before the actor answered. The caller gets <see cref="MeshTimeoutException"/>.</summary>
    Timeout = 4,

    /// <summary>The request could not be understood (malformed envelope, unknown method id, bad body). The caller gets
    /// <see cref="MeshProtocolException"/>.</summary>
    ProtocolError = 5,

    /// <summary>The receiver is stopping and takes no new calls. Retryable: another node owns the id once views change.</summary>
    ShuttingDown = 6,

    /// <summary>The actor could not be activated. The caller gets <see cref="ActorActivationException"/>, as for a local call.</summary>
    ActivationFailed = 7,

    /// <summary>The actor's mailbox is full; the capacity follows. The caller gets <see cref="MailboxFullException"/>.</summary>
    MailboxFull = 8,

    /// <summary>The receiver has no implementation of the actor type the call names. The caller gets
    /// <see cref="ActorActivationException"/>.</summary>
    UnknownActor = 9,
}
