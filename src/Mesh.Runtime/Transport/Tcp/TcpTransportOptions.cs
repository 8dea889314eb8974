namespace Mesh.Transport.Tcp;

/// <summary>Tuning of <see cref="TcpTransport"/>. The defaults suit a cluster on one data-centre network.</summary>
internal sealed record TcpTransportOptions
{
    /// <summary>Gets the longest a TLS handshake may take, from accepting (or opening) the socket to the server's
    /// acceptance; a peer that connects and sends nothing is dropped after it. Default: 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how long disposing a connection waits for data already flushed to be sent before it resets the
    /// connection. Default: 5 seconds.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets how many inbound handshakes may run at once; further sockets wait in the accept backlog.
    /// Default: 256.</summary>
    public int MaxConcurrentHandshakes { get; init; } = 256;

    /// <summary>Gets the listen backlog. Default: 512.</summary>
    public int ListenBacklog { get; init; } = 512;

    /// <summary>Gets the bytes a connection buffers in each direction before the writer waits (pipe pause threshold).
    /// Default: 1 MiB.</summary>
    public long PauseWriterThreshold { get; init; } = 1024 * 1024;

    /// <summary>Gets the buffered bytes under which a paused writer resumes. Default: 512 KiB.</summary>
    public long ResumeWriterThreshold { get; init; } = 512 * 1024;

    /// <summary>Gets the idle time before TCP keep-alive probes start, so a peer whose machine vanished is noticed
    /// without traffic. Default: 30 seconds.</summary>
    public TimeSpan KeepAliveTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets the interval between keep-alive probes. Default: 5 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets how many unanswered keep-alive probes end the connection. Default: 3.</summary>
    public int KeepAliveRetryCount { get; init; } = 3;

    /// <summary>Gets the ALPN protocol this node offers and accepts. Always <see cref="TransportCredentials.ApplicationProtocol"/>
    /// in a node; tests set another to prove that a node of another protocol version is refused.</summary>
    public string ApplicationProtocol { get; init; } = TransportCredentials.ApplicationProtocol;

    /// <summary>Gets a value indicating whether this node presents its certificate when it connects. Always
    /// <see langword="true"/> in a node; tests clear it to prove that a peer without certificate is refused.</summary>
    public bool PresentClientCertificate { get; init; } = true;
}
