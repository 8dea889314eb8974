using System.Buffers;

namespace Mesh.Transport;

/// <summary>
/// A growable byte buffer on an array rented from <see cref="ArrayPool{T}.Shared"/>: what an outbound frame and a
/// remote call's payload writer write into. Growing rents a larger array (at least twice the size) and returns
/// the old one.
/// </summary>
/// <remarks>A mutable struct kept in a field of its owner: never copy it. Not thread-safe (one writer at a time).</remarks>
internal struct PooledBuffer
{
    private byte[] _array;
    private int _written;

    /// <summary>Rents an array of at least <paramref name="initialSize"/> bytes (none for 0).</summary>
    public PooledBuffer(int initialSize)
    {
        _array = initialSize > 0 ? ArrayPool<byte>.Shared.Rent(initialSize) : [];
        _written = 0;
    }

    /// <summary>Gets the size of the array the buffer holds now.</summary>
    public readonly int Capacity => _array.Length;

    /// <summary>Gets how many bytes were written.</summary>
    public readonly int WrittenCount => _written;

    /// <summary>Gets the written bytes.</summary>
    public readonly Span<byte> WrittenSpan => _array.AsSpan(0, _written);

    /// <summary>Gets the written bytes.</summary>
    public readonly Memory<byte> WrittenMemory => _array.AsMemory(0, _written);

    /// <summary>Marks <paramref name="count"/> more bytes of the memory last handed out as written.</summary>
    /// <exception cref="InvalidOperationException">That goes past the end of the array.</exception>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _array.Length - _written)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    /// <summary>Returns room for at least <paramref name="sizeHint"/> (at least one) more bytes.</summary>
    public Memory<byte> GetMemory(int sizeHint)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_written);
    }

    /// <summary>Returns room for at least <paramref name="sizeHint"/> (at least one) more bytes.</summary>
    public Span<byte> GetSpan(int sizeHint)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_written);
    }

    /// <summary>Appends <paramref name="data"/>.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        data.CopyTo(GetSpan(data.Length));
        _written += data.Length;
    }

    /// <summary>Drops what was written, keeping the array.</summary>
    public void Clear() => _written = 0;

    /// <summary>
    /// Drops what was written; an array larger than <paramref name="retainLimit"/> goes back to the pool for one of
    /// <paramref name="replacementSize"/> bytes (none for 0), so an idle owner stays small after one large write.
    /// </summary>
    public void Reset(int retainLimit, int replacementSize)
    {
        _written = 0;
        if (_array.Length > retainLimit)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = replacementSize > 0 ? ArrayPool<byte>.Shared.Rent(replacementSize) : [];
        }
    }

    /// <summary>Gives the array back for good; the buffer is empty afterwards (and grows again if written to).</summary>
    public void Release()
    {
        byte[] array = _array;
        _array = [];
        _written = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_array.Length - _written >= needed)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(_written + needed), _array.Length * 2));
        _array.AsSpan(0, _written).CopyTo(larger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = larger;
    }
}
