using System.Net;

namespace Mesh.Transport.Quic;

/// <summary>
/// Settings of one <see cref="QuicEndpoint"/>. Certificates and keys are PEM text: the node's chain
/// (leaf first) and key, and the cluster CA every peer must chain to (mutual TLS 1.3).
/// </summary>
internal sealed class QuicEndpointOptions
{
    /// <summary>The ALPN protocol id of Mesh's QUIC transport.</summary>
    public const string DefaultApplicationProtocol = "mesh/1";

    /// <summary>The default <see cref="ReceiveSpinTime"/>: 50 µs.</summary>
    public static readonly TimeSpan DefaultReceiveSpinTime = TimeSpan.FromMicroseconds(50);

    /// <summary>The longest <see cref="ReceiveSpinTime"/>: 10 ms.</summary>
    public static readonly TimeSpan MaxReceiveSpinTime = TimeSpan.FromMilliseconds(10);

    /// <summary>Local address to bind; port 0 picks a free port. Default: 127.0.0.1:0.</summary>
    public IPEndPoint BindEndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>Whether peers may connect to this endpoint (needs a certificate and key). Default: false.</summary>
    public bool AcceptIncoming { get; set; }

    /// <summary>This node's certificate chain as PEM, leaf first; null for a client without a certificate.</summary>
    public string? CertificateChainPem { get; set; }

    /// <summary>The leaf's private key as PEM (PKCS#8, SEC1 or PKCS#1); null together with the chain.</summary>
    public string? PrivateKeyPem { get; set; }

    /// <summary>The cluster CA certificate(s) as PEM; both sides of a connection are verified against it. May be empty
    /// only when <see cref="PinnedSha256"/> is not.</summary>
    public string TrustedCaPem { get; set; } = "";

    /// <summary>
    /// SHA-256 digests (32 bytes each) of peer leaf certificates accepted without a chain to
    /// <see cref="TrustedCaPem"/>. Default: none.
    /// </summary>
    public IList<byte[]> PinnedSha256 { get; } = [];

    /// <summary>The ALPN protocol id offered and accepted. Default: <see cref="DefaultApplicationProtocol"/>.</summary>
    public string ApplicationProtocol { get; set; } = DefaultApplicationProtocol;

    /// <summary>A connection without traffic for this long is closed. Default: 30 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Keep-alives keep idle connections open at this interval. Default: 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most bytes one send (one batch of buffers) may carry. Default: 16 MiB.</summary>
    public int MaxSendBatchBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Concurrent bidirectional streams a peer may open. Default: 100.</summary>
    public int MaxBidirectionalStreams { get; set; } = 100;

    /// <summary>Flow-control window per stream, in bytes. Default: 1 MiB.</summary>
    public int StreamReceiveWindow { get; set; } = 1024 * 1024;

    /// <summary>The most received chunks handed over per native callback. Default: 64.</summary>
    public int ReceiveBatchChunks { get; set; } = 64;

    /// <summary>Received bytes buffered per stream before reading pauses. Default: 1 MiB.</summary>
    public long ReceivePauseThreshold { get; set; } = 1024 * 1024;

    /// <summary>Buffered bytes below which a paused stream resumes reading. Default: 512 KiB.</summary>
    public long ReceiveResumeThreshold { get; set; } = 512 * 1024;

    /// <summary>
    /// Bytes of one stream that may wait in the native library for QUIC before a send waits for them to drain.
    /// Sends below it complete as soon as they are copied, so the sender recycles its buffers without waiting for QUIC's
    /// flow control; the bound keeps a slow peer from queueing unlimited native memory. Default: 256 KiB.
    /// </summary>
    public long SendWindowBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// How long the endpoint's I/O thread stays awake after it last received a datagram or drove a connection,
    /// looking at the socket again each time after yielding its core, before it sleeps until the next datagram or
    /// timer; it also looks at least 64 times, which on busy cores keeps it awake across other threads' time slices.
    /// A datagram that arrives meanwhile costs no wake-up: on a busy node a wake-up (and, across cores, an
    /// inter-processor interrupt, which a virtual machine makes dear) costs more than the looks, and on a two-core
    /// machine it raised three-node sustained throughput by about 40 % (docs/benchmarks.md). The price is processor
    /// time while traffic is light: a node that receives a datagram more often than this keeps the thread awake.
    /// <see cref="TimeSpan.Zero"/> sleeps at once. Default: 50 µs; at most <see cref="MaxReceiveSpinTime"/>.
    /// </summary>
    public TimeSpan ReceiveSpinTime { get; set; } = DefaultReceiveSpinTime;

    /// <summary>Refused incoming handshakes kept for <see cref="QuicEndpoint.ReadRefusalAsync"/>; older ones are dropped. Default: 16.</summary>
    public int RefusalBacklog { get; set; } = 16;

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(BindEndPoint);
        ArgumentNullException.ThrowIfNull(TrustedCaPem);
        if (TrustedCaPem.Length == 0 && PinnedSha256.Count == 0)
        {
            throw new ArgumentException("A trusted CA or a pinned thumbprint is required: both sides of a connection are verified.");
        }

        ArgumentException.ThrowIfNullOrEmpty(ApplicationProtocol);
        if (CertificateChainPem is null != PrivateKeyPem is null)
        {
            throw new ArgumentException("The certificate chain and the private key go together.");
        }

        if (AcceptIncoming && CertificateChainPem is null)
        {
            throw new ArgumentException("Accepting connections needs a certificate chain and private key.");
        }

        foreach (byte[] pin in PinnedSha256)
        {
            if (pin is not { Length: 32 })
            {
                throw new ArgumentException("Every pinned thumbprint is a 32-byte SHA-256 digest.");
            }
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendBatchBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBidirectionalStreams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamReceiveWindow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBatchChunks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceivePauseThreshold, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReceiveResumeThreshold, ReceivePauseThreshold);
        ArgumentOutOfRangeException.ThrowIfLessThan(RefusalBacklog, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(SendWindowBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveSpinTime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReceiveSpinTime, MaxReceiveSpinTime);
    }
}
