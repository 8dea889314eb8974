using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Mesh.Transport.Quic;

/// <summary>
/// The sending direction of a <see cref="QuicTransportConnection"/>: a <see cref="PipeWriter"/> for one writer that
/// buffers what it is given in blocks it keeps, and on <see cref="FlushAsync"/> hands them to
/// <see cref="QuicStream.SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/> in one native call, which copies them.
/// </summary>
/// <remarks>
/// <para>Why not a <see cref="Pipe"/> and a send loop: every pipe operation takes the pipe's lock, which the writer and
/// the send loop contended for, and every flush woke the loop on another pool thread; in the three-node sustained
/// benchmark the lock alone was about 4 % of the calling process's time (docs/benchmarks.md). Here the flushing thread
/// sends, so a flush takes no lock of ours and queues no work item. The native library copies a batch before the call
/// returns, so the blocks are written into again at once, and a flush completes at once while the stream's copied
/// bytes waiting for QUIC stay under <see cref="QuicTransportOptions.SendWindowBytes"/>; past that it completes when
/// they drain (backpressure), and the writer waits, as it would for a full pipe.</para>
/// <para>Threads: one writer at a time, as for any <see cref="PipeWriter"/>. <see cref="CancelPendingFlush"/> may be
/// called from any thread: the flush that is waiting for the send window, or the next one, returns
/// <see cref="FlushResult.IsCanceled"/> once its send is done. A send stuck behind a peer that does not read ends
/// when the connection aborts, which disposes the stream and fails it.</para>
/// <para>Memory: the blocks are <see cref="QuicBufferPool"/>'s (pinned from birth, so the native call pins nothing).
/// A writer keeps up to <see cref="RetainedBlocks"/> of them between flushes and returns the rest; what it holds
/// between two flushes is what its writer wrote since the last one.</para>
/// </remarks>
internal sealed class QuicOutputWriter : PipeWriter
{
    /// <summary>The most idle blocks a writer keeps for its next writes (16 KiB).</summary>
    internal const int RetainedBlocks = 4;

    private readonly QuicStream _stream;
    private readonly int _maxBatchBytes;
    private readonly IMemoryOwner<byte>[] _spare = new IMemoryOwner<byte>[RetainedBlocks];
    private Segment[] _segments = new Segment[4];
    private ReadOnlyMemory<byte>[] _batch = new ReadOnlyMemory<byte>[4];
    private int _segmentCount;
    private int _spareCount;
    private long _unflushed;
    private int _flushCanceled;
    private int _aborted;
    private bool _completed;
    private bool _completedWithError;
    private Task? _completion;

    public QuicOutputWriter(QuicStream stream, int maxBatchBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchBytes, 1);
        _stream = stream;
        _maxBatchBytes = maxBatchBytes;
    }

    /// <summary>Gets the last send of a writer that completed: it finishes the stream (FIN) and completes once every
    /// byte has been handed to QUIC; <see langword="null"/> until the writer completes.</summary>
    public Task? Completion => Volatile.Read(ref _completion);

    /// <summary>Gets a value indicating whether the writer was completed with an exception (and sent no FIN).</summary>
    public bool CompletedWithError => _completedWithError;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unflushed;

    public override void Advance(int bytes)
    {
        ThrowIfCompleted();
        if (_segmentCount == 0)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
            return;
        }

        ref Segment current = ref _segments[_segmentCount - 1];
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, current.Owner!.Memory.Length - current.Length);
        current.Length += bytes;
        _unflushed += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCompleted();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int wanted = Math.Max(sizeHint, 1);
        if (_segmentCount > 0)
        {
            ref Segment current = ref _segments[_segmentCount - 1];
            Memory<byte> free = current.Owner!.Memory[current.Length..];
            if (free.Length >= wanted)
            {
                return free;
            }
        }

        return AddSegment(wanted);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void CancelPendingFlush() => Volatile.Write(ref _flushCanceled, 1);

    /// <summary>Called (from any thread) when the connection is aborted, before its stream is: a flush waiting for the
    /// send window, and every flush after it, fails with a <see cref="TransportException"/>, since what they sent was
    /// dropped.</summary>
    public void OnAborted() => Volatile.Write(ref _aborted, 1);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        ThrowIfAborted();
        if (_unflushed != 0)
        {
            try
            {
                ValueTask sent = SendBuffered(finish: false);
                if (!sent.IsCompletedSuccessfully)
                {
                    return WaitForSendAsync(sent, cancellationToken);
                }

                sent.GetAwaiter().GetResult();
            }
            catch (Exception exception) when (IsSendFailure(exception))
            {
                throw SendFailed(exception);
            }
        }

        return new ValueTask<FlushResult>(new FlushResult(isCanceled: TakeCancellation(), isCompleted: false));
    }

    /// <summary>Sends what is left and finishes the stream (FIN), or, with an <paramref name="exception"/>, drops what is
    /// left; the send is <see cref="Completion"/>.</summary>
    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        Task completion;
        if (exception is not null)
        {
            // The writer failed: the peer must not take what it wrote for a complete stream, so no FIN is sent; the
            // connection's disposal resets the stream.
            _completedWithError = true;
            ReleaseBlocks();
            completion = Task.CompletedTask;
        }
        else
        {
            try
            {
                ValueTask sent = SendBuffered(finish: true);
                if (sent.IsCompletedSuccessfully)
                {
                    sent.GetAwaiter().GetResult();
                    ReleaseBlocks();
                    completion = Task.CompletedTask;
                }
                else
                {
                    // The rest of the last flush waits for the window: its blocks stay until it is sent.
                    completion = FinishAsync(sent);
                }
            }
            catch (Exception failure) when (IsSendFailure(failure))
            {
                ReleaseBlocks();
                completion = Task.FromException(SendFailed(failure));
            }
        }

        Volatile.Write(ref _completion, completion);
    }

    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        return default;
    }

    private static bool IsSendFailure(Exception exception) =>
        exception is QuicTransportException or ObjectDisposedException or InvalidOperationException;

    private static TransportException SendFailed(Exception exception) =>
        new($"Sending on the QUIC stream failed: {exception.Message}", exception);

    private async Task FinishAsync(ValueTask send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception exception) when (IsSendFailure(exception))
        {
            throw SendFailed(exception);
        }
        finally
        {
            ReleaseBlocks();
        }
    }

    private bool TakeCancellation() =>
        Volatile.Read(ref _flushCanceled) != 0 && Interlocked.Exchange(ref _flushCanceled, 0) != 0;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> WaitForSendAsync(ValueTask sent, CancellationToken cancellationToken)
    {
        try
        {
            if (cancellationToken.CanBeCanceled)
            {
                // The send cannot be abandoned half way (the native library owns it), so the token only stops the wait.
                await sent.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await sent.ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (IsSendFailure(exception))
        {
            throw SendFailed(exception);
        }

        ThrowIfAborted();
        return new FlushResult(isCanceled: TakeCancellation(), isCompleted: false);
    }

    /// <summary>Hands everything written since the last flush to the native library, in batches of at most
    /// <see cref="_maxBatchBytes"/>; waits between batches only when a send has to wait for the window.</summary>
    private ValueTask SendBuffered(bool finish)
    {
        int segment = 0;
        int offset = 0;
        while (true)
        {
            int count = 0;
            long bytes = 0;
            while (segment < _segmentCount && bytes < _maxBatchBytes)
            {
                ref Segment current = ref _segments[segment];
                int take = (int)Math.Min(current.Length - offset, _maxBatchBytes - bytes);
                if (take > 0)
                {
                    if (count == _batch.Length)
                    {
                        Array.Resize(ref _batch, _batch.Length * 2);
                    }

                    _batch[count++] = current.Owner!.Memory.Slice(offset, take);
                    bytes += take;
                    offset += take;
                }

                if (offset == current.Length)
                {
                    segment++;
                    offset = 0;
                }
            }

            bool last = segment == _segmentCount;
            ValueTask sent = _stream.SendAsync(new ReadOnlySpan<ReadOnlyMemory<byte>>(_batch, 0, count), finish && last);
            Array.Clear(_batch, 0, count);
            if (last)
            {
                // Copied by the native library: the blocks take new writes at once.
                Reset();
                return sent;
            }

            if (!sent.IsCompletedSuccessfully)
            {
                return SendRestAsync(sent, segment, offset, finish);
            }

            sent.GetAwaiter().GetResult();
        }
    }

    /// <summary>The rest of <see cref="SendBuffered"/> once a batch has to wait: rare, so its state machine may be
    /// pooled rather than avoided.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRestAsync(ValueTask pending, int segment, int offset, bool finish)
    {
        await pending.ConfigureAwait(false);

        // Drop what went out already, then send the rest the same way.
        ref Segment first = ref _segments[segment];
        if (offset > 0)
        {
            first.Owner!.Memory.Span.Slice(offset, first.Length - offset).CopyTo(first.Owner.Memory.Span);
            first.Length -= offset;
        }

        for (int i = 0; i < segment; i++)
        {
            Recycle(_segments[i].Owner!);
        }

        Array.Copy(_segments, segment, _segments, 0, _segmentCount - segment);
        Array.Clear(_segments, _segmentCount - segment, segment);
        _segmentCount -= segment;
        await SendBuffered(finish).ConfigureAwait(false);
    }

    private Memory<byte> AddSegment(int sizeHint)
    {
        IMemoryOwner<byte> owner;
        if (sizeHint <= QuicBufferPool.BlockSize)
        {
            owner = _spareCount > 0 ? TakeSpare() : QuicBufferPool.Default.Rent();
        }
        else
        {
            // Larger than a block: a one-off buffer (the framing layer never asks for one).
            owner = MemoryPool<byte>.Shared.Rent(sizeHint);
        }

        if (_segmentCount == _segments.Length)
        {
            Array.Resize(ref _segments, _segments.Length * 2);
        }

        _segments[_segmentCount++] = new Segment { Owner = owner };
        return owner.Memory;
    }

    private IMemoryOwner<byte> TakeSpare()
    {
        IMemoryOwner<byte> spare = _spare[--_spareCount];
        _spare[_spareCount] = null!;
        return spare;
    }

    /// <summary>Everything was sent: keep the blocks for the next writes (up to <see cref="RetainedBlocks"/>).</summary>
    private void Reset()
    {
        for (int i = 0; i < _segmentCount; i++)
        {
            Recycle(_segments[i].Owner!);
            _segments[i] = default;
        }

        _segmentCount = 0;
        _unflushed = 0;
    }

    private void Recycle(IMemoryOwner<byte> owner)
    {
        if (_spareCount < RetainedBlocks && owner.Memory.Length == QuicBufferPool.BlockSize && !_completed)
        {
            _spare[_spareCount++] = owner;
        }
        else
        {
            owner.Dispose();
        }
    }

    /// <summary>The writer is completed: every block goes back (<see cref="Recycle"/> keeps none once completed).</summary>
    private void ReleaseBlocks()
    {
        Reset();
        while (_spareCount > 0)
        {
            TakeSpare().Dispose();
        }
    }

    private void ThrowIfAborted()
    {
        if (Volatile.Read(ref _aborted) != 0)
        {
            throw new TransportException("The QUIC stream was aborted: what was written is dropped.");
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
    }

    /// <summary>One buffer written into: its owner and how many bytes of it are written.</summary>
    private struct Segment
    {
        public IMemoryOwner<byte>? Owner;
        public int Length;
    }
}
