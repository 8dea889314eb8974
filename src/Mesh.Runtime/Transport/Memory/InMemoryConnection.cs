using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;

namespace Mesh.Transport.Memory;

/// <summary>One end of an in-memory connection: it reads from one pipe and writes to the other.</summary>
/// <remarks>
/// A pipe's reader and writer each belong to one owner, so <see cref="Abort"/> (which any thread may call, while the
/// owners of both ends read and write) never completes them. It records the reset in the state both ends share and
/// wakes every pending read and flush; the wrappers below then fail each read and flush of either end with it.
/// </remarks>
internal sealed class InMemoryConnection : ITransportConnection
{
    private readonly Reset _reset;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;

    private InMemoryConnection(Pipe inbound, Pipe outbound, Reset reset, EndPoint? remoteEndPoint, PeerIdentity peer)
    {
        _inbound = inbound;
        _outbound = outbound;
        _reset = reset;
        Input = new ResettableReader(inbound.Reader, reset);
        Output = new ResettableWriter(outbound.Writer, reset);
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public EndPoint? RemoteEndPoint { get; }

    public PeerIdentity Peer { get; }

    /// <summary>Creates both ends of a connection over two pipes.</summary>
    /// <returns>The client's end, which writes <paramref name="toServer"/>, and the server's, which writes <paramref name="toClient"/>.</returns>
    internal static (InMemoryConnection Client, InMemoryConnection Server) CreatePair(
        Pipe toServer, Pipe toClient, EndPoint serverEndPoint, PeerIdentity server, PeerIdentity client)
    {
        var reset = new Reset();
        return (new InMemoryConnection(toClient, toServer, reset, serverEndPoint, server),
                new InMemoryConnection(toServer, toClient, reset, null, client));
    }

    public void Abort(string reason)
    {
        // What a reset looks like: both directions end with the error at once, unread data is discarded, and the reads
        // and flushes of both ends throw it.
        if (Interlocked.CompareExchange(ref _reset.Error, new TransportException($"The in-memory connection was aborted: {reason}"), null) is not null)
        {
            return;
        }

        // Both are safe from any thread; each wakes a read or flush waiting on the pipe, which then sees the error.
        _inbound.Reader.CancelPendingRead();
        _outbound.Reader.CancelPendingRead();
        _inbound.Writer.CancelPendingFlush();
        _outbound.Writer.CancelPendingFlush();
    }

    public ValueTask DisposeAsync()
    {
        Output.Complete();
        Input.Complete();
        return ValueTask.CompletedTask;
    }

    /// <summary>The reset both ends of a connection share: null until either end aborts.</summary>
    private sealed class Reset
    {
        public TransportException? Error;
    }

    /// <summary>A pipe's reader whose reads fail once the connection is reset, unread data or not.</summary>
    private sealed class ResettableReader(PipeReader inner, Reset reset) : PipeReader
    {
        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref reset.Error) is { } error)
            {
                return ValueTask.FromException<ReadResult>(error);
            }

            ValueTask<ReadResult> read = inner.ReadAsync(cancellationToken);
            return read.IsCompletedSuccessfully ? new ValueTask<ReadResult>(Checked(read.Result)) : AwaitAsync(read);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                ThrowIfReset();
                return false;
            }

            result = Checked(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> read) => Checked(await read.ConfigureAwait(false));

        private ReadResult Checked(ReadResult result)
        {
            if (Volatile.Read(ref reset.Error) is { } error)
            {
                // Hand the buffer back unread, as a reset discards it, then fail the read.
                inner.AdvanceTo(result.Buffer.Start);
                throw error;
            }

            return result;
        }

        private void ThrowIfReset()
        {
            if (Volatile.Read(ref reset.Error) is { } error)
            {
                throw error;
            }
        }
    }

    /// <summary>A pipe's writer whose flushes fail once the connection is reset.</summary>
    private sealed class ResettableWriter(PipeWriter inner, Reset reset) : PipeWriter
    {
        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref reset.Error) is { } error)
            {
                return ValueTask.FromException<FlushResult>(error);
            }

            ValueTask<FlushResult> flush = inner.FlushAsync(cancellationToken);
            return flush.IsCompletedSuccessfully ? new ValueTask<FlushResult>(Checked(flush.Result)) : AwaitAsync(flush);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<FlushResult> AwaitAsync(ValueTask<FlushResult> flush) => Checked(await flush.ConfigureAwait(false));

        private FlushResult Checked(FlushResult result) =>
            Volatile.Read(ref reset.Error) is { } error ? throw error : result;
    }
}
