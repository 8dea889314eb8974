using System.Buffers;

namespace Mesh.Transport.Tests;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, as a pipe hands out data that arrived in pieces.
/// The segments are reused, so building a sequence allocates nothing (the fuzz test measures allocations).</summary>
internal sealed class Segments
{
    private readonly Segment[] _pool;

    public Segments(int capacity)
    {
        _pool = new Segment[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _pool[i] = new Segment();
        }
    }

    /// <summary>Cuts <paramref name="data"/> at the ascending positions <paramref name="cuts"/> (at most capacity − 1).</summary>
    public ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, ReadOnlySpan<int> cuts)
    {
        int start = 0;
        Segment first = _pool[0];
        Segment last = first;
        first.Set(data[..(cuts.Length > 0 ? cuts[0] : data.Length)], 0);
        for (int i = 0; i < cuts.Length; i++)
        {
            start = cuts[i];
            int end = i + 1 < cuts.Length ? cuts[i + 1] : data.Length;
            Segment next = _pool[i + 1];
            next.Set(data[start..end], start);
            last.Link(next);
            last = next;
        }

        last.Link(null);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Cuts <paramref name="data"/> into one segment per byte range between the given cut points (allocating).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts) => new Segments(cuts.Length + 1).Split(data, cuts);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public void Set(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void Link(Segment? next) => Next = next;
    }
}
