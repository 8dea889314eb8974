using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Mesh.Transport.Quic;

/// <summary>
/// The output of a <see cref="QuicTransportConnection"/>: writes go into one growable pooled buffer, and
/// <see cref="FlushAsync"/> hands it to <see cref="QuicStream.SendBufferAsync"/> on the flushing thread, which copies
/// it into the native library before returning. No send loop sits between the writer and QUIC, so a flushed batch
/// costs no thread hop; the buffer is reused for the next batch.
/// </summary>
/// <remarks>
/// <para>Backpressure: a flush completes at once while fewer than the stream's send window of copied bytes wait for
/// QUIC, else when they have drained (see <see cref="QuicStream"/>), so a writer that outpaces the network waits in
/// <see cref="FlushAsync"/> and memory stays bounded by the window plus one batch.</para>
/// <para>Threads: one writer (the pipe contract) calls everything but <see cref="CancelPendingFlush"/>, which may come
/// from any thread and only sets a flag the next (or current) flush reports. A failed stream fails the flush with a
/// <see cref="TransportException"/>. The buffer goes back to the pool only from the writer's own
/// <see cref="Complete"/>/<see cref="CompleteAsync"/> or from <see cref="Release"/>, which the connection calls once
/// nobody writes any more.</para>
/// </remarks>
internal sealed class QuicStreamWriter : PipeWriter
{
    private const int InitialSize = 16 * 1024;

    // A batch larger than this (a big frame) is not kept for the next one: the buffer shrinks back after the flush.
    private const int RetainedSize = 256 * 1024;

    private readonly QuicStream _stream;
    private readonly int _maxBatchBytes;
    private PooledBuffer _buffer = new(InitialSize);
    private int _flushCanceled;
    private int _completed;
    private Task _finished = Task.CompletedTask;

    public QuicStreamWriter(QuicStream stream, int maxBatchBytes)
    {
        _stream = stream;
        _maxBatchBytes = maxBatchBytes;
    }

    /// <summary>Completes when the FIN of a graceful <see cref="Complete"/> has been handed to QUIC (or failed).</summary>
    public Task Finished => _finished;

    /// <inheritdoc/>
    public override bool CanGetUnflushedBytes => true;

    /// <inheritdoc/>
    public override long UnflushedBytes => _buffer.WrittenCount;

    /// <inheritdoc/>
    public override void Advance(int bytes) => _buffer.Advance(bytes);

    /// <inheritdoc/>
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCompleted();
        return _buffer.GetMemory(sizeHint);
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        ThrowIfCompleted();
        return _buffer.GetSpan(sizeHint);
    }

    /// <inheritdoc/>
    public override void CancelPendingFlush() => Volatile.Write(ref _flushCanceled, 1);

    /// <inheritdoc/>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (Interlocked.Exchange(ref _flushCanceled, 0) != 0)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        int offset = 0;
        while (offset < _buffer.WrittenCount)
        {
            int length = Math.Min(_buffer.WrittenCount - offset, _maxBatchBytes);
            ValueTask send = Send(offset, length, finish: false);
            offset += length;
            if (!send.IsCompletedSuccessfully)
            {
                return FlushSlowAsync(send, offset, cancellationToken);
            }

            // Also when it completed on another thread just now: the result must be taken to end the send.
            send.GetAwaiter().GetResult();
        }

        Reset();
        return new ValueTask<FlushResult>(default(FlushResult));
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        // With an error the stream is aborted by the connection; without one, what is left goes out, then FIN.
        _finished = exception is null ? FinishAsync() : Task.CompletedTask;
        if (exception is not null)
        {
            Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Like a pipe's writer, this does not wait for the bytes to leave; <see cref="Finished"/> does.</remarks>
    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        return default;
    }

    /// <summary>Returns the buffer to the pool; only once nobody writes any more.</summary>
    public void Release() => _buffer.Release();

    private ValueTask Send(int offset, int length, bool finish)
    {
        try
        {
            return _stream.SendBufferAsync(_buffer.WrittenSpan.Slice(offset, length), finish);
        }
        catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException or InvalidOperationException)
        {
            return ValueTask.FromException(Wrap(ex));
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> FlushSlowAsync(ValueTask pending, int offset, CancellationToken cancellationToken)
    {
        await AwaitSendAsync(pending, cancellationToken).ConfigureAwait(false);
        while (offset < _buffer.WrittenCount)
        {
            int length = Math.Min(_buffer.WrittenCount - offset, _maxBatchBytes);
            ValueTask send = Send(offset, length, finish: false);
            offset += length;
            await AwaitSendAsync(send, cancellationToken).ConfigureAwait(false);
        }

        Reset();
        return new FlushResult(isCanceled: Interlocked.Exchange(ref _flushCanceled, 0) != 0, isCompleted: false);
    }

    private async Task FinishAsync()
    {
        try
        {
            int offset = 0;
            do
            {
                int length = Math.Min(_buffer.WrittenCount - offset, _maxBatchBytes);
                offset += length;
                await AwaitSendAsync(Send(offset - length, length, finish: offset == _buffer.WrittenCount), CancellationToken.None).ConfigureAwait(false);
            }
            while (offset < _buffer.WrittenCount);
        }
        finally
        {
            Release();
        }
    }

    private static async ValueTask AwaitSendAsync(ValueTask send, CancellationToken cancellationToken)
    {
        try
        {
            await send.AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException or InvalidOperationException)
        {
            throw Wrap(ex);
        }
    }

    private static TransportException Wrap(Exception ex) =>
        ex as TransportException ?? new TransportException($"Sending on the QUIC stream failed: {ex.Message}", ex);

    private void ThrowIfCompleted()
    {
        if (Volatile.Read(ref _completed) != 0)
        {
            throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
        }
    }

    private void Reset() => _buffer.Reset(RetainedSize, InitialSize);
}
