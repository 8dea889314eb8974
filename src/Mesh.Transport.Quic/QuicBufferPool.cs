using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic;

/// <summary>
/// The memory of the QUIC pipes: fixed-size blocks on the pinned object heap, reused. Received bytes are pushed by the
/// native library into a stream's input pipe as fast as QUIC delivers them, and the send loop's pipe holds what the
/// writers produced while the last batch was copied, so both hold far more blocks at a time than a TCP socket's pipes,
/// whose bytes wait in the kernel instead. <see cref="ArrayPool{T}.Shared"/> keeps only a few dozen arrays per size
/// per core; past that every segment was a new 4 KiB array (about 1.7 KB of garbage per 1 KiB message with eight
/// concurrent senders). This pool keeps every block it handed out, up to <see cref="MaxRetainedBytes"/>.
/// </summary>
/// <remarks>
/// Threads: any thread rents and returns (native callbacks, pipe readers and writers); <see cref="_free"/> is a
/// concurrent queue, which enqueues and dequeues without allocating while it does not grow, and
/// <see cref="_retained"/> is only changed with Interlocked. A block is pinned from birth, so pinning it for a native
/// call costs nothing.
/// </remarks>
internal sealed class QuicBufferPool : MemoryPool<byte>
{
    /// <summary>The size of every block: the pipe's default segment size, so a pipe asks for exactly one block.</summary>
    public const int BlockSize = 4096;

    /// <summary>
    /// The most bytes of idle blocks kept for reuse. One stream buffers up to 1 MiB in each direction by default, so this
    /// covers 32 busy streams at once; blocks beyond it go to the GC when returned, which bounds what a burst leaves
    /// behind.
    /// </summary>
    public const long MaxRetainedBytes = 64L * 1024 * 1024;

    private const int MaxRetainedBlocks = (int)(MaxRetainedBytes / BlockSize);

    private readonly ConcurrentQueue<Block> _free = new();
    private int _retained;
    private long _created;

    /// <summary>The pool every QUIC pipe of the process shares.</summary>
    public static QuicBufferPool Default { get; } = new();

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks created since the process started; flat once the pool has grown to the working set.</summary>
    internal long BlocksCreated => Volatile.Read(ref _created);

    /// <summary>Rents one block. Pipes never ask for more than <see cref="MaxBufferSize"/> (larger requests they serve
    /// from <see cref="ArrayPool{T}.Shared"/>), so a larger size is a caller's bug.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minBufferSize"/> exceeds <see cref="BlockSize"/>.</exception>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out Block? block))
        {
            Interlocked.Decrement(ref _retained);
            block.Rented();
            return block;
        }

        Interlocked.Increment(ref _created);
        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        // Shared by every pipe for the life of the process: nothing to release early.
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _retained) <= MaxRetainedBlocks)
        {
            _free.Enqueue(block);
        }
        else
        {
            Interlocked.Decrement(ref _retained);
        }
    }

    /// <summary>One pinned block; disposing it (what a pipe does with a segment it is done with) returns it.</summary>
    private sealed class Block(QuicBufferPool pool) : MemoryManager<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        private int _returned;

        public void Rented() => Volatile.Write(ref _returned, 0);

        public override Span<byte> GetSpan() => _array;

        public override unsafe MemoryHandle Pin(int elementIndex = 0)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _array.Length);

            // On the pinned object heap the array never moves, so its address is stable without a GCHandle.
            return new MemoryHandle((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array)) + elementIndex);
        }

        public override void Unpin()
        {
        }

        protected override bool TryGetArray(out ArraySegment<byte> segment)
        {
            segment = new ArraySegment<byte>(_array);
            return true;
        }

        protected override void Dispose(bool disposing)
        {
            // Returned exactly once per rent, whoever disposes it how often.
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(this);
            }
        }
    }
}
