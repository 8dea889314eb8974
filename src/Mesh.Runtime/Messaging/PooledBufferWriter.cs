using System.Buffers;
using Mesh.Runtime;

namespace Mesh.Messaging;

/// <summary>A growable buffer on <see cref="ArrayPool{T}"/> arrays, itself pooled: remote calls serialize into one
/// and give it back when the frame has copied it, so a call allocates neither the writer nor its array.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>
{
    /// <summary>The most idle writers kept: enough for the calls in flight on a busy node; more are dropped.</summary>
    private const int PoolLimit = 256;

    /// <summary>The array size a writer starts with; a call envelope and a small request fit.</summary>
    private const int InitialSize = 512;

    /// <summary>The largest array an idle writer keeps; larger ones go back to the array pool.</summary>
    private const int RetainLimit = 64 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);

    private PooledBufferWriter()
    {
    }

    /// <summary>Gets how many bytes were written.</summary>
    public int WrittenCount { get; private set; }

    /// <summary>Gets what was written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, WrittenCount);

    /// <summary>Gets what was written.</summary>
    public Span<byte> WrittenSpan => _buffer.AsSpan(0, WrittenCount);

    public static PooledBufferWriter Rent()
    {
        return ThreadCachedPool<PooledBufferWriter>.TryRent(out PooledBufferWriter? writer) ? writer : new PooledBufferWriter();
    }

    /// <summary>Empties the writer and puts it back in the pool; do not touch it afterwards.</summary>
    public void Return()
    {
        Clear();
        if (_buffer.Length > RetainLimit)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
        }

        if (!ThreadCachedPool<PooledBufferWriter>.TryReturn(this, PoolLimit))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    public void Clear() => WrittenCount = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _buffer.Length - WrittenCount)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        WrittenCount += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(WrittenCount);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(WrittenCount);
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        WrittenCount += data.Length;
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - WrittenCount >= needed)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(WrittenCount + needed), _buffer.Length * 2));
        _buffer.AsSpan(0, WrittenCount).CopyTo(larger);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = larger;
    }
}
