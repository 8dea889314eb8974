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
/// <para>Sending: <see cref="Output"/> is a <see cref="QuicStreamWriter"/>: a flush hands the batch written since the
/// last one to the native library on the flushing thread (one copy), with no send loop in between. Completing
/// <see cref="Output"/> sends what is left and finishes the stream (FIN); <see cref="Abort"/> resets both
/// directions.</para>
/// <para>Threads: the framing layer's write loop is the output's only writer; <see cref="Abort"/> and
/// <see cref="DisposeAsync"/> may run on any thread and only set <see cref="_closed"/> once (Interlocked), cancel the
/// writer's pending flush and dispose the stream, which is itself safe against concurrent sends.</para>
/// </remarks>
internal sealed class QuicTransportConnection : ITransportConnection
{
    /// <summary>The application error code of an <see cref="Abort"/>, as the peer sees it.</summary>
    internal const ulong AbortErrorCode = 1;

    private readonly QuicStream _stream;
    private readonly QuicStreamWriter _output;
    private readonly QuicInputReader _input;
    private readonly TimeSpan _closeTimeout;
    private int _closed;

    public QuicTransportConnection(QuicStream stream, EndPoint? remoteEndPoint, PeerIdentity peer, QuicTransportOptions options)
    {
        _stream = stream;
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
        _closeTimeout = options.ConnectTimeout;
        _output = new QuicStreamWriter(stream, options.MaxSendBatchBytes);
        _input = new QuicInputReader(stream.Input);
    }

    public PipeReader Input => _input;

    public PipeWriter Output => _output;

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

        // Wakes a writer waiting in a flush and completes Input with an error, so readers of both directions stop.
        _output.CancelPendingFlush();
        _stream.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            // Graceful: whatever was written goes out, then FIN; a peer that stops reading cannot hold this up for long.
            _output.Complete();
            try
            {
                await _output.Finished.WaitAsync(_closeTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Abort("the peer did not take the last bytes in time");
            }
            catch (TransportException)
            {
                // The stream failed while finishing: there is nothing left to send.
            }
        }

        Interlocked.Exchange(ref _closed, 1);
        _stream.Dispose();
        try
        {
            await _output.Finished.ConfigureAwait(false);
        }
        catch (TransportException)
        {
            // Reported above or aborted: the stream is gone either way.
        }

        // The framing layer disposes the transport after its loops ended: nobody writes any more.
        _output.Release();
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
