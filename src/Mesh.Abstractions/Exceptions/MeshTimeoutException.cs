namespace Mesh;

/// <summary>Thrown when an actor call does not complete within its timeout.</summary>
public sealed class MeshTimeoutException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="MeshTimeoutException"/> class.</summary>
    /// <param name="actor">The actor that was called.</param>
    /// <param name="method">The method that was called.</param>
    /// <param name="timeout">The timeout that elapsed.</param>
    public MeshTimeoutException(ActorId actor, string method, TimeSpan timeout)
        : base($"The call {actor.ActorType}.{method} to '{actor}' did not complete within {timeout.TotalMilliseconds:0.###} ms (Mesh:CallTimeout).")
    {
        Actor = actor;
        Method = method;
        Timeout = timeout;
    }

    /// <summary>Gets the actor that was called.</summary>
    public ActorId Actor { get; }

    /// <summary>Gets the method that was called.</summary>
    public string Method { get; }

    /// <summary>Gets the timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}
