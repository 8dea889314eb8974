namespace Mesh;

/// <summary>
/// Thrown to the caller when the actor could not be activated: no implementation is registered, its constructor
/// threw, or its <see cref="IActorLifecycle.OnActivateAsync"/> threw. The next call tries to activate it again.
/// </summary>
public sealed class ActorActivationException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="ActorActivationException"/> class.</summary>
    /// <param name="actor">The actor that could not be activated.</param>
    /// <param name="message">Why activation failed.</param>
    /// <param name="innerException">The exception that made activation fail, if any.</param>
    public ActorActivationException(ActorId actor, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Actor = actor;
    }

    /// <summary>Gets the actor that could not be activated.</summary>
    public ActorId Actor { get; }
}
