namespace Mesh.Transport.Quic;

/// <summary>Settings of <see cref="QuicTransport"/>; the defaults suit a cluster on one network.</summary>
internal sealed class QuicTransportOptions
{
    /// <summary>Gets or sets how long a connection may carry no packet before it is closed. With keep-alives running,
    /// this bounds how long a peer whose process died (or whose network vanished) goes unnoticed. Default: 10 seconds.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how often an otherwise idle connection sends a keep-alive; must be well below
    /// <see cref="IdleTimeout"/>. Default: 2 seconds.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets how long connecting (QUIC and TLS handshake) may take. Default: 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long a failed first stream waits for its connection's close reason, to tell a refusal
    /// of this node's certificate (reported at once) from a connection lost otherwise (retried once). Default: 1 second.</summary>
    public TimeSpan RefusalWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the server name sent in the TLS handshake. Nodes are verified by the cluster CA or a pinned
    /// thumbprint, never by name, so any value works. Default: <c>mesh</c>.</summary>
    public string ServerName { get; set; } = "mesh";

    /// <summary>Gets or sets the most bytes handed to QUIC in one native send; a flush of more is sent in several.
    /// Default: 1 MiB.</summary>
    public int MaxSendBatchBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets how many bytes of one stream, already copied by the native library, may wait for QUIC
    /// before a flush of the connection's output waits for them to drain (backpressure). Below it a flush completes as
    /// soon as the native library has copied it, and the output's buffers take new writes at once. Default: 256 KiB.</summary>
    public long SendWindowBytes { get; set; } = 256 * 1024;

    /// <summary>Gets or sets the concurrent streams a peer may open on one connection. Default: 100.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Gets or sets how long the QUIC I/O thread stays awake after its last work before it sleeps (see
    /// <see cref="QuicEndpointOptions.ReceiveSpinTime"/>; <c>Mesh:ReceiveSpinTime</c>). Default: 50 µs.</summary>
    public TimeSpan ReceiveSpinTime { get; set; } = QuicEndpointOptions.DefaultReceiveSpinTime;

    /// <summary>Gets or sets a native library file to load instead of the one shipped next to the assembly; when not
    /// set, the <c>MESH_QUIC_NATIVE_LIBRARY</c> environment variable is used, then the default. Default: none.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(KeepAliveInterval, IdleTimeout);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(RefusalWait, TimeSpan.Zero);
        ArgumentException.ThrowIfNullOrEmpty(ServerName);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendBatchBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SendWindowBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStreamsPerConnection, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveSpinTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReceiveSpinTime, QuicEndpointOptions.MaxReceiveSpinTime);
    }
}
