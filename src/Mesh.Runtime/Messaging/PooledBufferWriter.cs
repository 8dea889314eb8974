using System.Buffers;
using Mesh.Runtime;
using Mesh.Transport;

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

    private PooledBuffer _buffer = new(InitialSize);

    private PooledBufferWriter()
    {
    }

    /// <summary>Gets how many bytes were written.</summary>
    public int WrittenCount => _buffer.WrittenCount;

    /// <summary>Gets what was written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    /// <summary>Gets what was written.</summary>
    public Span<byte> WrittenSpan => _buffer.WrittenSpan;

    public static PooledBufferWriter Rent()
    {
        return ThreadCachedPool<PooledBufferWriter>.TryRent(out PooledBufferWriter? writer) ? writer : new PooledBufferWriter();
    }

    /// <summary>Empties the writer and puts it back in the pool; do not touch it afterwards.</summary>
    public void Return()
    {
        _buffer.Reset(RetainLimit, InitialSize);
        if (!ThreadCachedPool<PooledBufferWriter>.TryReturn(this, PoolLimit))
        {
            _buffer.Release();
        }
    }

    public void Clear() => _buffer.Clear();

    public void Advance(int count) => _buffer.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data) => _buffer.Write(data);
}
