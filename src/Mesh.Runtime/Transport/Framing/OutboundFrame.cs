using System.Buffers;

namespace Mesh.Transport.Framing;

/// <summary>A frame waiting in a connection's send queue: its kind, correlation id and payload in a pooled array. It is
/// also the <see cref="IBufferWriter{T}"/> a request handler writes its response into. Reused through the connection's
/// frame pool; touched by one thread at a time (the sender, then the write loop).</summary>
internal sealed class OutboundFrame : IBufferWriter<byte>
{
    private const int InitialSize = 256;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _written;

    public FrameKind Kind { get; set; }

    public ulong CorrelationId { get; set; }

    /// <summary>The id of the deferral that owns this response frame, zero when it is not deferred; swapped to zero by
    /// whoever completes it (see <see cref="FramedConnection.Defer"/>).</summary>
    public long DeferralId;

    /// <summary>Gets or sets the connection handling the request this frame answers.</summary>
    public FramedConnection? Owner { get; set; }

    /// <summary>Drops what was written, keeping the buffer.</summary>
    public void Clear() => _written = 0;

    public ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, _written);

    /// <summary>Gets the frame's size on the wire.</summary>
    public int WireLength => FrameHeader.Size + _written;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _buffer.Length - _written)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Write(ReadOnlySpan<byte> payload)
    {
        Ensure(payload.Length);
        payload.CopyTo(_buffer.AsSpan(_written));
        _written += payload.Length;
    }

    /// <summary>Empties the frame for reuse, giving a large buffer back to the pool so idle frames stay small.</summary>
    public void Reset(int retainLimit)
    {
        _written = 0;
        CorrelationId = 0;
        Owner = null;
        if (_buffer.Length > retainLimit)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }
    }

    /// <summary>Gives the buffer back for good.</summary>
    public void Release()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _written = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed)
        {
            return;
        }

        int size = Math.Max(checked(_written + needed), _buffer.Length * 2);
        byte[] larger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _written).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
