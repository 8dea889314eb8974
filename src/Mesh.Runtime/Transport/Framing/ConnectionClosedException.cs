namespace Mesh.Transport.Framing;

/// <summary>The connection closed (gracefully, aborted, lost, or for a protocol error, which is the inner exception)
/// before the request was answered or while a message was being sent.</summary>
internal sealed class ConnectionClosedException : TransportException
{
    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    public ConnectionClosedException()
        : base("The connection is closed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    /// <param name="message">Why it closed.</param>
    public ConnectionClosedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    /// <param name="message">Why it closed.</param>
    /// <param name="innerException">The cause.</param>
    public ConnectionClosedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
