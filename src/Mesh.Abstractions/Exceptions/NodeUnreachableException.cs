namespace Mesh;

/// <summary>
/// Thrown when the node that owns an actor cannot be reached: it refused the connection, the connection broke while the
/// call was in flight, or it failed moments ago and is not tried again yet. Whether the actor ran a call whose
/// connection broke is unknown. Membership notices a dead node within its suspicion timeout; once it has, calls go to
/// the id's new owner.
/// </summary>
public sealed class NodeUnreachableException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="NodeUnreachableException"/> class.</summary>
    /// <param name="actor">The actor that was called.</param>
    /// <param name="endpoint">The owner's <c>host:port</c>.</param>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The transport's error.</param>
    public NodeUnreachableException(ActorId actor, string endpoint, string message, Exception? innerException = null)
        : base($"The owner of '{actor}' at {endpoint} cannot be reached: {message}", innerException)
    {
        Actor = actor;
        Endpoint = endpoint;
    }

    /// <summary>Gets the actor that was called.</summary>
    public ActorId Actor { get; }

    /// <summary>Gets the owner's <c>host:port</c>.</summary>
    public string Endpoint { get; }
}
