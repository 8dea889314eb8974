namespace Mesh;

/// <summary>
/// Thrown to the caller when the actor method threw. It carries the original exception's type name, message and
/// stack text, whichever node the actor ran on; the actor stays active and keeps serving.
/// </summary>
public sealed class ActorInvocationException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="ActorInvocationException"/> class.</summary>
    /// <param name="actor">The actor that threw.</param>
    /// <param name="method">The method that threw.</param>
    /// <param name="remoteExceptionType">The full type name of the exception the actor threw.</param>
    /// <param name="remoteMessage">The message of the exception the actor threw.</param>
    /// <param name="remoteStackTrace">The stack text of the exception the actor threw, if any.</param>
    /// <param name="innerException">The original exception when the actor ran on this node; otherwise null.</param>
    public ActorInvocationException(
        ActorId actor,
        string method,
        string remoteExceptionType,
        string remoteMessage,
        string? remoteStackTrace,
        Exception? innerException = null)
        : base($"{actor.ActorType}.{method} on '{actor}' threw {remoteExceptionType}: {remoteMessage}", innerException)
    {
        Actor = actor;
        Method = method;
        RemoteExceptionType = remoteExceptionType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>Gets the actor that threw.</summary>
    public ActorId Actor { get; }

    /// <summary>Gets the method that threw.</summary>
    public string Method { get; }

    /// <summary>Gets the full type name of the exception the actor threw.</summary>
    public string RemoteExceptionType { get; }

    /// <summary>Gets the message of the exception the actor threw.</summary>
    public string RemoteMessage { get; }

    /// <summary>Gets the stack text of the exception the actor threw, if it had one.</summary>
    public string? RemoteStackTrace { get; }
}
