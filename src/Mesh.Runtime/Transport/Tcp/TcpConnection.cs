using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tcp;

/// <summary>
/// One authenticated TCP+TLS connection, exposed as a duplex pipe. Two loops per connection: the receive loop decrypts
/// from the <see cref="SslStream"/> straight into the input pipe's memory; the send loop takes what the application
/// flushed into the output pipe and encrypts it, coalescing small segments into one TLS record. Both pipes pause their
/// writer at <see cref="TcpTransportOptions.PauseWriterThreshold"/>, so a slow reader or a slow network holds the
/// other side back instead of growing memory.
/// </summary>
/// <remarks>
/// Threads: the receive loop alone writes the input pipe and reads the <see cref="SslStream"/>; the send loop alone
/// reads the output pipe and writes the <see cref="SslStream"/> (SslStream allows one reader and one writer at once).
/// <see cref="Abort"/> and <see cref="DisposeAsync"/> may run on any thread; they only close the socket (once, behind
/// an interlocked flag) and cancel pending pipe operations, which both loops observe. The SslStream is disposed after
/// both loops have ended.
/// </remarks>
internal sealed class TcpConnection : ITransportConnection
{
    // One TLS record carries at most 16 KiB of plaintext: reading and writing in that unit costs one decryption or
    // encryption per call and lets a batch of small frames leave in one record.
    private const int RecordSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly TcpTransport _transport;
    private readonly TcpTransportOptions _options;
    private readonly ILogger _logger;
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _socketClosed;
    private int _pumpsRunning;
    private volatile string? _abortReason;
    private volatile bool _disposing;
    private int _disposed;

    public TcpConnection(Socket socket, SslStream ssl, PeerIdentity peer, TcpTransport transport, TcpTransportOptions options, ILogger logger)
    {
        _socket = socket;
        _ssl = ssl;
        _transport = transport;
        _options = options;
        _logger = logger;
        Peer = peer;
        RemoteEndPoint = socket.RemoteEndPoint;
        LocalEndPoint = socket.LocalEndPoint;
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: options.PauseWriterThreshold,
            resumeWriterThreshold: options.ResumeWriterThreshold,
            minimumSegmentSize: RecordSize,
            useSynchronizationContext: false);
        _input = new Pipe(pipeOptions);
        _output = new Pipe(pipeOptions);
    }

    public EndPoint? RemoteEndPoint { get; }

    public PeerIdentity Peer { get; }

    /// <summary>Gets this side's address of the connection.</summary>
    internal EndPoint? LocalEndPoint { get; }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    /// <summary>Gets a value indicating whether the socket has been closed (by abort, dispose, or both directions ending).</summary>
    internal bool IsSocketClosed => Volatile.Read(ref _socketClosed) != 0;

    /// <summary>Starts the receive and send loops; called once, after the handshake.</summary>
    public void Start()
    {
        _pumpsRunning = 2;
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    public void Abort(string reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (Interlocked.CompareExchange(ref _abortReason, reason, null) is not null)
        {
            return;
        }

        TcpLog.Aborted(_logger, RemoteEndPoint, reason);
        CloseSocket(reset: true);
        _output.Reader.CancelPendingRead();
        _input.Writer.CancelPendingFlush();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _disposing = true;
        if (_abortReason is null && !IsSocketClosed)
        {
            // Send what the application has already flushed, then close_notify and FIN, within a bound.
            _output.Reader.CancelPendingRead();
            try
            {
                await _sending.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The peer stopped reading: give up on the rest.
            }
        }

        CloseSocket(reset: !_sending.IsCompletedSuccessfully);
        _input.Writer.CancelPendingFlush();
        _output.Reader.CancelPendingRead();
        await _receiving.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        await _ssl.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReceiveAsync()
    {
        // Yield so that Start returns before the first read completes.
        await Task.Yield();
        PipeWriter writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(RecordSize);
                int read = await _ssl.ReadAsync(memory).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                FlushResult flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // Whatever ends the loop ends the stream with it; an escaping exception would leave the reader waiting.
            error = ex;
        }

        await writer.CompleteAsync(Failure(error, "receiving from")).ConfigureAwait(false);
        PumpEnded();
    }

    private async Task SendAsync()
    {
        await Task.Yield();
        PipeReader reader = _output.Reader;
        Exception? error = null;
        byte[]? coalesced = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (_abortReason is not null)
                {
                    // Abort discards unsent data.
                    reader.AdvanceTo(buffer.End);
                    break;
                }

                if (buffer.IsSingleSegment)
                {
                    if (!buffer.IsEmpty)
                    {
                        await _ssl.WriteAsync(buffer.First).ConfigureAwait(false);
                    }
                }
                else
                {
                    coalesced ??= ArrayPool<byte>.Shared.Rent(RecordSize);
                    await WriteCoalescedAsync(buffer, coalesced).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted || (result.IsCanceled && (_disposing || _abortReason is not null)))
                {
                    break;
                }
            }

            if (_abortReason is null)
            {
                // Graceful end of our direction: TLS close_notify, then FIN; the peer reads everything, then the end.
                await _ssl.ShutdownAsync().ConfigureAwait(false);
                _socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex)
        {
            // Whatever ends the loop ends the stream with it; an escaping exception would leave the reader waiting.
            error = ex;
        }
        finally
        {
            if (coalesced is not null)
            {
                ArrayPool<byte>.Shared.Return(coalesced);
            }
        }

        await reader.CompleteAsync(Failure(error, "sending to")).ConfigureAwait(false);
        PumpEnded();
    }

    private async ValueTask WriteCoalescedAsync(ReadOnlySequence<byte> buffer, byte[] coalesced)
    {
        int filled = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            ReadOnlyMemory<byte> rest = segment;
            while (!rest.IsEmpty)
            {
                int count = Math.Min(rest.Length, RecordSize - filled);
                rest.Span[..count].CopyTo(coalesced.AsSpan(filled));
                filled += count;
                rest = rest[count..];
                if (filled == RecordSize)
                {
                    await _ssl.WriteAsync(coalesced.AsMemory(0, filled)).ConfigureAwait(false);
                    filled = 0;
                }
            }
        }

        if (filled > 0)
        {
            await _ssl.WriteAsync(coalesced.AsMemory(0, filled)).ConfigureAwait(false);
        }
    }

    private TransportException? Failure(Exception? error, string direction)
    {
        string? abortReason = _abortReason;
        if (abortReason is not null)
        {
            return new TransportException($"The connection with {RemoteEndPoint} was aborted: {abortReason}", error);
        }

        if (error is null || _disposing)
        {
            return error is null ? null : new TransportException($"The connection with {RemoteEndPoint} was disposed.", error);
        }

        TcpLog.ConnectionFailed(_logger, RemoteEndPoint, error);
        _transport.Metrics.Error(TcpTransport.TransportName, "connection_lost");
        return new TransportException($"The connection failed while {direction} {RemoteEndPoint} ({Peer.Subject}): {error.Message}", error);
    }

    private void PumpEnded()
    {
        // Once both directions are over nothing can use the socket: release it now rather than at dispose.
        if (Interlocked.Decrement(ref _pumpsRunning) == 0)
        {
            CloseSocket(reset: false);
        }
    }

    private void CloseSocket(bool reset)
    {
        if (Interlocked.Exchange(ref _socketClosed, 1) != 0)
        {
            return;
        }

        try
        {
            if (reset)
            {
                // Linger 0: close sends RST, so the peer sees an error instead of a clean end.
                _socket.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The socket is already unusable; closing it is all that is left.
        }

        _socket.Dispose();
        _transport.SocketReleased();
    }
}
