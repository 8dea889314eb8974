namespace Mesh;

/// <summary>
/// Thrown at once when an actor's mailbox already holds the configured maximum of messages; the call was not
/// accepted and can be retried later.
/// </summary>
public sealed class MailboxFullException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="MailboxFullException"/> class.</summary>
    /// <param name="actor">The actor whose mailbox is full.</param>
    /// <param name="capacity">The mailbox capacity (Mesh:MailboxCapacity).</param>
    public MailboxFullException(ActorId actor, int capacity)
        : base($"The mailbox of '{actor}' is full ({capacity} messages, Mesh:MailboxCapacity); the call was not accepted.")
    {
        Actor = actor;
        Capacity = capacity;
    }

    /// <summary>Gets the actor whose mailbox is full.</summary>
    public ActorId Actor { get; }

    /// <summary>Gets the mailbox capacity.</summary>
    public int Capacity { get; }
}
