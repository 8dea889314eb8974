using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;

namespace Mesh.Transport.Quic;

/// <summary>
/// One QUIC bidirectional stream as an <see cref="ITransportConnection"/>.
/// </summary>
/// <remarks>
/// <para>Receiving: <see cref="Input"/> reads the stream's own pipe, into which the native callback copied the bytes
/// (the one copy of that direction); <see cref="QuicInputReader"/> only turns QUIC failures into
/// <see cref="TransportException"/>.</para>
/// <para>Sending: writers write into <see cref="Output"/>'s pipe buffers; one send loop per connection hands whatever
/// has accumulated to <see cref="QuicStream.SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/> as one batch of
/// segments, which the native library copies once. The send completes as soon as it is copied while the stream's
/// native queue is under <see cref="QuicTransportOptions.SendWindowBytes"/>, so the pipe's blocks are recycled at once;
/// writes flushed while the loop is copying, or while the queue is over the window, go out together in the next batch. Completing <see cref="Output"/> sends what is left and finishes the stream (FIN); <see cref="Abort"/>
/// resets both directions.</para>
/// <para>Threads: the send loop is the output pipe's only reader; <see cref="Abort"/> and <see cref="DisposeAsync"/>
/// may run on any thread and only set <see cref="_closed"/> once (Interlocked), cancel the loop's pending read and
/// dispose the stream, which is itself safe against concurrent sends.</para>
/// </remarks>
internal sealed class QuicTransportConnection : ITransportConnection
{
    /// <summary>The application error code of an <see cref="Abort"/>, as the peer sees it.</summary>
    internal const ulong AbortErrorCode = 1;

    private readonly QuicStream _stream;
    private readonly Pipe _output;
    private readonly QuicInputReader _input;
    private readonly int _maxBatchBytes;
    private readonly TimeSpan _closeTimeout;
    private readonly Task _sending;
    private int _closed;

    public QuicTransportConnection(QuicStream stream, EndPoint? remoteEndPoint, PeerIdentity peer, QuicTransportOptions options)
    {
        _stream = stream;
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
        _maxBatchBytes = options.MaxSendBatchBytes;
        _closeTimeout = options.ConnectTimeout;
        _output = new Pipe(new PipeOptions(
            pool: QuicBufferPool.Default,
            pauseWriterThreshold: options.SendPauseThreshold,
            resumeWriterThreshold: options.SendPauseThreshold / 2,
            useSynchronizationContext: false));
        _input = new QuicInputReader(stream.Input);
        _sending = SendLoopAsync();
    }

    public PipeReader Input => _input;

    public PipeWriter Output => _output.Writer;

    public EndPoint? RemoteEndPoint { get; }

    public PeerIdentity Peer { get; }

    public void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            _stream.Abort(AbortErrorCode);
        }
        catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException)
        {
            // Already gone: the peer sees the end either way.
        }

        // Ends the send loop and completes Input with an error, so readers of both directions stop.
        _output.Reader.CancelPendingRead();
        _stream.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            // Graceful: whatever was written goes out, then FIN; a peer that stops reading cannot hold this up for long.
            await _output.Writer.CompleteAsync().ConfigureAwait(false);
            try
            {
                await _sending.WaitAsync(_closeTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Abort("the peer did not take the last bytes in time");
            }
        }

        Interlocked.Exchange(ref _closed, 1);
        _output.Reader.CancelPendingRead();
        await _sending.ConfigureAwait(false);
        _stream.Dispose();
    }

    private async Task SendLoopAsync()
    {
        // Let the constructor return before the first read.
        await Task.Yield();
        PipeReader reader = _output.Reader;
        ReadOnlyMemory<byte>[] batch = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(16);
        Exception? failure = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled && Volatile.Read(ref _closed) != 0)
                {
                    failure = new TransportException("The QUIC stream was aborted.");
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                bool finished = false;
                while (!buffer.IsEmpty || (result.IsCompleted && !finished))
                {
                    ReadOnlySequence<byte> chunk = buffer.Length > _maxBatchBytes ? buffer.Slice(0, _maxBatchBytes) : buffer;
                    int count = 0;
                    foreach (ReadOnlyMemory<byte> segment in chunk)
                    {
                        if (segment.IsEmpty)
                        {
                            continue;
                        }

                        if (count == batch.Length)
                        {
                            batch = Grow(batch);
                        }

                        batch[count++] = segment;
                    }

                    buffer = buffer.Slice(chunk.End);
                    finished = result.IsCompleted && buffer.IsEmpty;
                    await _stream.SendAsync(new ReadOnlySpan<ReadOnlyMemory<byte>>(batch, 0, count), finished).ConfigureAwait(false);
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException or InvalidOperationException)
        {
            failure = new TransportException($"Sending on the QUIC stream failed: {ex.Message}", ex);
        }
        finally
        {
            Array.Clear(batch);
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(batch);
        }

        // A writer still writing sees FlushResult.IsCompleted (and GetMemory keeps working until it completes).
        await reader.CompleteAsync(failure).ConfigureAwait(false);
    }

    private static ReadOnlyMemory<byte>[] Grow(ReadOnlyMemory<byte>[] batch)
    {
        ReadOnlyMemory<byte>[] larger = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(batch.Length * 2);
        batch.CopyTo(larger, 0);
        Array.Clear(batch);
        ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(batch);
        return larger;
    }

    /// <summary>The stream's input pipe, with QUIC failures surfaced as <see cref="TransportException"/>.</summary>
    private sealed class QuicInputReader(PipeReader inner) : PipeReader
    {
        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            ValueTask<ReadResult> read;
            try
            {
                read = inner.ReadAsync(cancellationToken);
            }
            catch (QuicTransportException ex)
            {
                throw Wrap(ex);
            }

            return read.IsCompletedSuccessfully ? read : AwaitReadAsync(read);
        }

        public override bool TryRead(out ReadResult result)
        {
            try
            {
                return inner.TryRead(out result);
            }
            catch (QuicTransportException ex)
            {
                throw Wrap(ex);
            }
        }

        private static TransportException Wrap(QuicTransportException ex) =>
            new($"The QUIC stream failed: {ex.Message}", ex);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private static async ValueTask<ReadResult> AwaitReadAsync(ValueTask<ReadResult> read)
        {
            try
            {
                return await read.ConfigureAwait(false);
            }
            catch (QuicTransportException ex)
            {
                throw Wrap(ex);
            }
        }
    }
}
