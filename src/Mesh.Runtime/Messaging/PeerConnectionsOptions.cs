namespace Mesh.Messaging;

/// <summary>Timings of <see cref="PeerConnections"/>, each with the reason for its default.</summary>
internal sealed class PeerConnectionsOptions
{
    /// <summary>Gets or sets how long one connection attempt (TCP or QUIC handshake with mutual TLS) may take. A
    /// handshake on loopback takes milliseconds; across a loaded cluster under a second. Default: 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long after a failed connection attempt calls to that peer fail at once instead of trying
    /// again, so a dead peer costs its callers nothing while membership notices it is gone. Default: 500 ms.</summary>
    public TimeSpan ReconnectBackoff { get; set; } = TimeSpan.FromMilliseconds(500);
}
