using System.Buffers;

namespace Mesh.Transport.Framing;

/// <summary>A frame waiting in a connection's send queue: its kind, correlation id and payload in a pooled array. It is
/// also the <see cref="IBufferWriter{T}"/> a request handler writes its response into. Reused through the connection's
/// frame pool; touched by one thread at a time (the sender, then the write loop).</summary>
internal sealed class OutboundFrame : IBufferWriter<byte>
{
    private const int InitialSize = 256;
    private PooledBuffer _buffer = new(InitialSize);

    public FrameKind Kind { get; set; }

    public ulong CorrelationId { get; set; }

    /// <summary>The id of the deferral that owns this response frame, zero when it is not deferred; swapped to zero by
    /// whoever completes it (see <see cref="FramedConnection.Defer"/>).</summary>
    public long DeferralId;

    /// <summary>Gets or sets the connection handling the request this frame answers.</summary>
    public FramedConnection? Owner { get; set; }

    /// <summary>Drops what was written, keeping the buffer.</summary>
    public void Clear() => _buffer.Clear();

    public ReadOnlySpan<byte> Payload => _buffer.WrittenSpan;

    /// <summary>Gets the size of the buffer the frame holds now.</summary>
    public int Capacity => _buffer.Capacity;

    /// <summary>Gets the frame's size on the wire.</summary>
    public int WireLength => FrameHeader.Size + _buffer.WrittenCount;

    public void Advance(int count) => _buffer.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

    public void Write(ReadOnlySpan<byte> payload) => _buffer.Write(payload);

    /// <summary>Empties the frame for reuse, giving a large buffer back to the pool so idle frames stay small.</summary>
    public void Reset(int retainLimit)
    {
        CorrelationId = 0;
        Owner = null;
        _buffer.Reset(retainLimit, InitialSize);
    }

    /// <summary>Gives the buffer back for good.</summary>
    public void Release() => _buffer.Release();
}
