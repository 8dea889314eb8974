namespace Mesh.Transport.Framing;

/// <summary>The peer's handler failed the request and answered with an <see cref="FrameKind.Error"/> frame; the
/// message is the peer's. The connection keeps working.</summary>
internal sealed class RemoteRequestException : TransportException
{
    /// <summary>Initializes a new instance of the <see cref="RemoteRequestException"/> class.</summary>
    public RemoteRequestException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RemoteRequestException"/> class.</summary>
    /// <param name="message">The peer's message.</param>
    public RemoteRequestException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="RemoteRequestException"/> class.</summary>
    /// <param name="message">The peer's message.</param>
    /// <param name="innerException">The cause.</param>
    public RemoteRequestException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
