using System.Diagnostics.Metrics;

namespace Mesh.Transport;

/// <summary>Counters of every transport (bytes, frames, errors, refused handshakes), on the <c>Mesh</c> meter and readable
/// by tests. Thread-safe; counting allocates nothing.</summary>
internal sealed class TransportMetrics : IDisposable
{
    private readonly Meter _meter = new("Mesh", "0.1.0");
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _framesSent;
    private readonly Counter<long> _framesReceived;
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
        _bytesSent = _meter.CreateCounter<long>("mesh.transport.bytes_sent", "By", "Bytes of frames sent to other nodes.");
        _bytesReceived = _meter.CreateCounter<long>("mesh.transport.bytes_received", "By", "Bytes of frames received from other nodes.");
        _framesSent = _meter.CreateCounter<long>("mesh.transport.frames_sent", description: "Frames sent to other nodes.");
        _framesReceived = _meter.CreateCounter<long>("mesh.transport.frames_received", description: "Frames received from other nodes.");
        _errors = _meter.CreateCounter<long>("mesh.transport.errors", description: "Connections closed for a protocol error (malformed or oversized frame) or a transport failure.");
        _handshakeFailures = _meter.CreateCounter<long>("mesh.transport.handshake_failures", description: "Peers refused at the TLS handshake (no, untrusted or expired certificate; wrong protocol version).");
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
        _framesSent.Add(frames);
        _bytesSent.Add(bytes);
    }

    public void Received(int frames, long bytes)
    {
        Interlocked.Add(ref _framesReceivedCount, frames);
        Interlocked.Add(ref _bytesReceivedCount, bytes);
        _framesReceived.Add(frames);
        _bytesReceived.Add(bytes);
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
