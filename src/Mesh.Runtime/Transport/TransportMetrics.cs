using System.Diagnostics.Metrics;

namespace Mesh.Transport;

/// <summary>Counters of every transport (bytes, frames, errors, refused handshakes), on the <c>Mesh</c> meter and readable
/// by tests. Thread-safe; counting allocates nothing.</summary>
internal sealed class TransportMetrics : IDisposable
{
    // OpenTelemetry's network.io.direction values, as system.network.io uses them.
    private static readonly KeyValuePair<string, object?> Transmit = new("network.io.direction", "transmit");
    private static readonly KeyValuePair<string, object?> Receive = new("network.io.direction", "receive");
    private readonly Meter _meter = new(Runtime.MeshTelemetry.Name, Runtime.MeshTelemetry.Version);
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _frames;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _handshakeFailures;
    private long _bytesSentCount;
    private long _bytesReceivedCount;
    private long _framesSentCount;
    private long _framesReceivedCount;
    private long _errorCount;
    private long _handshakeFailureCount;

    public TransportMetrics()
    {
        _bytes = _meter.CreateCounter<long>("mesh.transport.io", "By", "Bytes of frames exchanged with other nodes, by direction.");
        _frames = _meter.CreateCounter<long>("mesh.transport.frames", "{frame}", "Frames exchanged with other nodes, by direction.");
        _errors = _meter.CreateCounter<long>("mesh.transport.errors", "{error}", "Connections closed for a protocol error (malformed or oversized frame) or a transport failure.");
        _handshakeFailures = _meter.CreateCounter<long>("mesh.transport.handshake.failures", "{handshake}", "Peers refused at the TLS handshake (no, untrusted or expired certificate; wrong protocol version).");
    }

    public long BytesSent => Volatile.Read(ref _bytesSentCount);

    public long BytesReceived => Volatile.Read(ref _bytesReceivedCount);

    public long FramesSent => Volatile.Read(ref _framesSentCount);

    public long FramesReceived => Volatile.Read(ref _framesReceivedCount);

    public long Errors => Volatile.Read(ref _errorCount);

    public long HandshakeFailures => Volatile.Read(ref _handshakeFailureCount);

    public void Sent(int frames, long bytes)
    {
        Interlocked.Add(ref _framesSentCount, frames);
        Interlocked.Add(ref _bytesSentCount, bytes);
        _frames.Add(frames, Transmit);
        _bytes.Add(bytes, Transmit);
    }

    public void Received(int frames, long bytes)
    {
        Interlocked.Add(ref _framesReceivedCount, frames);
        Interlocked.Add(ref _bytesReceivedCount, bytes);
        _frames.Add(frames, Receive);
        _bytes.Add(bytes, Receive);
    }

    /// <summary>Counts a connection closed for an error.</summary>
    /// <param name="transport">The transport's name.</param>
    /// <param name="kind">A short, fixed error kind (for example <c>malformed_frame</c>), never free text.</param>
    public void Error(string transport, string kind)
    {
        Interlocked.Increment(ref _errorCount);
        _errors.Add(1, new KeyValuePair<string, object?>("mesh.transport", transport), new KeyValuePair<string, object?>("error.type", kind));
    }

    /// <summary>Counts a peer refused at the handshake.</summary>
    /// <param name="transport">The transport's name.</param>
    /// <param name="kind">A short, fixed reason (for example <c>untrusted_certificate</c>), never free text.</param>
    public void HandshakeFailed(string transport, string kind)
    {
        Interlocked.Increment(ref _handshakeFailureCount);
        _handshakeFailures.Add(1, new KeyValuePair<string, object?>("mesh.transport", transport), new KeyValuePair<string, object?>("error.type", kind));
    }

    public void Dispose() => _meter.Dispose();
}
