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
/// <para>Sending: <see cref="Output"/> is a <see cref="QuicOutputWriter"/>: writes go into blocks it keeps, and each
/// flush hands them, as one batch of segments, to <see cref="QuicStream.SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/>
/// on the flushing thread; the native library copies them once. Completing <see cref="Output"/> sends what is left
/// and finishes the stream (FIN); <see cref="Abort"/> resets both directions.</para>
/// <para>Threads: <see cref="Output"/> has one writer at a time; <see cref="Abort"/> and <see cref="DisposeAsync"/>
/// may run on any thread and only set <see cref="_closed"/> once (Interlocked) and abort or dispose the stream, which
/// is itself safe against concurrent sends (a send racing it fails with a <see cref="TransportException"/>).</para>
/// </remarks>
internal sealed class QuicTransportConnection : ITransportConnection
{
    /// <summary>The application error code of an <see cref="Abort"/>, as the peer sees it.</summary>
    internal const ulong AbortErrorCode = 1;

    private readonly QuicStream _stream;
    private readonly QuicOutputWriter _output;
    private readonly QuicInputReader _input;
    private readonly TimeSpan _closeTimeout;
    private int _closed;

    public QuicTransportConnection(QuicStream stream, EndPoint? remoteEndPoint, PeerIdentity peer, QuicTransportOptions options)
    {
        _stream = stream;
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
        _closeTimeout = options.ConnectTimeout;
        _output = new QuicOutputWriter(stream, options.MaxSendBatchBytes);
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

        _output.OnAborted();
        try
        {
            _stream.Abort(AbortErrorCode);
        }
        catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException)
        {
            // Already gone: the peer sees the end either way.
        }

        // Fails a send waiting for the window and completes Input with an error, so readers of both directions stop.
        _stream.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            // Graceful: whatever was written goes out, then FIN; a peer that stops reading cannot hold this up for long.
            // The writer is idle by now (its one user, the framing layer, has stopped writing).
            _output.Complete();
            if (_output.CompletedWithError)
            {
                Abort("the writer failed");
            }
            else
            {
                try
                {
                    await _output.Completion!.WaitAsync(_closeTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Abort("the peer did not take the last bytes in time");
                }
                catch (TransportException)
                {
                    // The stream failed: there is nothing left to deliver.
                }
            }
        }

        Interlocked.Exchange(ref _closed, 1);
        _stream.Dispose();
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
