using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Framing;

/// <summary>
/// Frames over one <see cref="ITransportConnection"/>: many requests in flight at once, matched to their responses by
/// correlation id; one-way messages; inbound requests handed to an <see cref="IFrameHandler"/>.
/// </summary>
/// <remarks>
/// <para>Sending: a sender copies its payload into a pooled <see cref="OutboundFrame"/>, puts it on a lock-free queue and
/// signals the write loop, the only code that touches the transport's <see cref="PipeWriter"/>. The write loop encodes
/// every queued frame straight into the pipe and flushes once per batch (at most
/// <see cref="FramedConnectionOptions.CoalescingBytes"/>), so many small frames go out in one flush.</para>
/// <para>Backpressure: when the peer reads slowly, the pipe's pause threshold holds the write loop's flush, the queue
/// fills up to <see cref="FramedConnectionOptions.MaxQueuedSendBytes"/>, and senders then wait until it drains.
/// Inbound, the read loop handles one frame at a time, so a slow handler stops reading and its peer's senders wait in turn.
/// A handler that answers later (<see cref="Defer"/>) frees the read loop at once; at most
/// <see cref="FramedConnectionOptions.MaxDeferredResponses"/> answers may be outstanding, beyond which the read loop
/// waits for one to complete, so deferral keeps memory bounded and backpressure intact.</para>
/// <para>Receiving: one read loop decodes frames in place (<see cref="FrameDecoder"/>), completes waiting requests with
/// a pooled copy of their response, and calls the handler. A malformed or oversized frame is logged, counted and closes
/// this connection only; its requests in flight fail with <see cref="ConnectionClosedException"/>.</para>
/// </remarks>
internal sealed class FramedConnection : IDeferredResponseOwner, IAsyncDisposable
{
    private const int Open = 0;
    private const int Closing = 1;
    private const int Closed = 2;

    /// <summary>The most characters of a handler's exception message sent back in an error frame.</summary>
    private const int MaxErrorMessageLength = 1024;

    private readonly ITransportConnection _transport;
    private readonly string _transportName;
    private readonly IFrameHandler? _handler;
    private readonly FramedConnectionOptions _options;
    private readonly TransportMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _peerName;
    private readonly PendingRequestTable _requests;
    private readonly HandOffs _handOffs;
    private readonly ConcurrentQueue<OutboundFrame> _sendQueue = new();
    private readonly ConcurrentQueue<OutboundFrame> _framePool = new();
    private readonly AsyncSignal _writeSignal = new();
    private readonly CancellationTokenSource _closed = new();
    private long _framePoolBytes;
    private long _queuedBytes;
    private int _state;
    private ConnectionClosedException? _closeReason;
    private TaskCompletionSource? _spaceAvailable;
    private TaskCompletionSource? _deferredRoom;
    private int _deferredCount;
    private long _lastDeferralId;

    // Set by Defer while a request handler runs, read and cleared by the read loop once the handler's task completed:
    // one handler runs at a time, and its completion orders the write before the read.
    private bool _handlerDeferred;
    private Timer? _timeoutTimer;
    private Task? _completion;

    public FramedConnection(ITransportConnection transport, string transportName, IFrameHandler? handler, FramedConnectionOptions options, TransportMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(transportName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _transport = transport;
        _transportName = transportName;
        _handler = handler;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _peerName = transport.Peer.Subject;
        _handOffs = new HandOffs(ReleaseHeldFrames);
        _requests = new PendingRequestTable(_handOffs);
    }

    /// <summary>Gets who the peer proved to be.</summary>
    public PeerIdentity Peer => _transport.Peer;

    /// <summary>Gets a value indicating whether the connection takes new requests (it is neither closing nor closed).</summary>
    public bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>Gets why the connection closed, once it has.</summary>
    public ConnectionClosedException? CloseReason => Volatile.Read(ref _closeReason);

    /// <summary>Gets a task that completes when both directions have ended and the transport connection is disposed.</summary>
    public Task Completion => _completion ?? throw new InvalidOperationException("The connection was not started.");

    /// <summary>Gets the number of deferred responses not completed yet.</summary>
    internal int DeferredResponses => Volatile.Read(ref _deferredCount);

    /// <summary>Gets the number of request slots this connection has (the most requests it ever had in flight at once).</summary>
    internal int RequestSlots => _requests.Capacity;

    /// <summary>Gets the frames the idle pool holds, the bytes they count against
    /// <see cref="FramedConnectionOptions.FramePoolBytes"/>, and the pool's running count of those bytes (for tests: the
    /// two agree whenever no frame is being rented or returned).</summary>
    internal (int Frames, long Bytes, long Counted) FramePoolUsage
    {
        get
        {
            int frames = 0;
            long bytes = 0;
            foreach (OutboundFrame frame in _framePool)
            {
                frames++;
                bytes += PooledCost(frame);
            }

            return (frames, bytes, Volatile.Read(ref _framePoolBytes));
        }
    }

    /// <summary>Starts the read and write loops. Call once.</summary>
    public void Start()
    {
        if (_completion is not null)
        {
            throw new InvalidOperationException("The connection was started already.");
        }

        if (_options.RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            _timeoutTimer = new Timer(static state => ((FramedConnection)state!).ExpireRequests(), this, _options.TimeoutScanInterval, _options.TimeoutScanInterval);
        }

        _completion = RunAsync();
    }

    /// <summary>Sends a request and waits for its response, for at most <see cref="FramedConnectionOptions.RequestTimeout"/>.</summary>
    /// <param name="payload">The request payload; copied before this returns.</param>
    /// <param name="cancellationToken">Stops waiting; a response that arrives later is dropped.</param>
    /// <returns>The response payload; dispose it. Await the task exactly once.</returns>
    /// <exception cref="ConnectionClosedException">The connection closed before the response came.</exception>
    /// <exception cref="RemoteRequestException">The peer's handler failed.</exception>
    /// <exception cref="TimeoutException">No response came in time.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<FramePayload> RequestAsync(ReadOnlySpan<byte> payload, CancellationToken cancellationToken = default) =>
        RequestAsync(payload, _options.RequestTimeout, cancellationToken);

    /// <summary>Sends a request and waits for its response for at most <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="RequestAsync(ReadOnlySpan{byte}, CancellationToken)"/>
    public ValueTask<FramePayload> RequestAsync(ReadOnlySpan<byte> payload, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RequestAsync(default, payload, timeout, cancellationToken);

    /// <summary>Sends a request whose payload is <paramref name="head"/> followed by <paramref name="body"/> (a service
    /// byte before a message, without copying them together first) and waits for its response for at most
    /// <paramref name="timeout"/>.</summary>
    /// <inheritdoc cref="RequestAsync(ReadOnlySpan{byte}, CancellationToken)"/>
    public ValueTask<FramePayload> RequestAsync(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        CheckPayloadLength(head.Length + body.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FramePayload>(cancellationToken);
        }

        if (Volatile.Read(ref _state) != Open)
        {
            return ValueTask.FromException<FramePayload>(ClosedError());
        }

        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        PendingRequest request = _requests.Rent();
        ValueTask<FramePayload> response = request.AsValueTask();
        ulong id = request.Start(deadline);
        request.RegisterCancellation(cancellationToken);

        OutboundFrame frame = RentFrame(FrameKind.Request, id);
        frame.Write(head);
        frame.Write(body);
        if (!TryEnqueue(frame))
        {
            _ = EnqueueRequestWhenSpaceAsync(frame, cancellationToken);
        }

        // If the connection failed while this request was being started, the failure may not have seen it.
        if (Volatile.Read(ref _state) == Closed)
        {
            request.TryFail(id, ClosedError());
        }

        return response;
    }

    /// <summary>Sends a one-way message. Messages one sender sends (awaiting each) arrive in the order sent.</summary>
    /// <param name="payload">The payload; copied before this returns.</param>
    /// <param name="cancellationToken">Stops waiting for room in the send queue.</param>
    /// <returns>A task that completes at once, or once the send queue has room (backpressure).</returns>
    /// <exception cref="ConnectionClosedException">The connection is closing or closed.</exception>
    public ValueTask SendOneWayAsync(ReadOnlySpan<byte> payload, CancellationToken cancellationToken = default) =>
        SendOneWayAsync(default, payload, cancellationToken);

    /// <summary>Sends a one-way message whose payload is <paramref name="head"/> followed by <paramref name="body"/>.</summary>
    /// <inheritdoc cref="SendOneWayAsync(ReadOnlySpan{byte}, CancellationToken)"/>
    public ValueTask SendOneWayAsync(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, CancellationToken cancellationToken = default)
    {
        CheckPayloadLength(head.Length + body.Length);
        if (Volatile.Read(ref _state) != Open)
        {
            return ValueTask.FromException(ClosedError());
        }

        OutboundFrame frame = RentFrame(FrameKind.OneWay, 0);
        frame.Write(head);
        frame.Write(body);
        return TryEnqueue(frame) ? default : EnqueueWhenSpaceAsync(frame, cancellationToken);
    }

    /// <summary>
    /// Takes over the response of the request being handled, so the handler can return at once and the read loop can go
    /// on with the next frame; the response is sent when <see cref="DeferredResponse.Complete"/> is called, in whatever
    /// order the deferred requests finish. Call it from <see cref="IFrameHandler.HandleRequestAsync"/>, before its task
    /// completes, with the <c>response</c> writer that call got; copy what is needed of the request payload first.
    /// </summary>
    /// <param name="response">The writer <see cref="IFrameHandler.HandleRequestAsync"/> was given.</param>
    /// <returns>The response to complete exactly once.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="response"/> is not a response being handled on this
    /// connection, or it was deferred already.</exception>
    public DeferredResponse Defer(IBufferWriter<byte> response)
    {
        if (response is not OutboundFrame { Kind: FrameKind.Response } frame || frame.DeferralId != 0 || frame.Owner != this)
        {
            throw new InvalidOperationException("Only the response writer of a request this connection is handling can be deferred, once.");
        }

        long id = Interlocked.Increment(ref _lastDeferralId);
        Volatile.Write(ref frame.DeferralId, id);
        Interlocked.Increment(ref _deferredCount);
        _handlerDeferred = true;
        return new DeferredResponse(this, frame, id);
    }

    /// <inheritdoc/>
    void IDeferredResponseOwner.Clear(IBufferWriter<byte> writer, long id)
    {
        var frame = (OutboundFrame)writer;
        if (Volatile.Read(ref frame.DeferralId) == id)
        {
            frame.Clear();
        }
    }

    /// <summary>Sends a deferred response (or an error frame with <paramref name="error"/>); called by
    /// <see cref="DeferredResponse"/>.</summary>
    void IDeferredResponseOwner.Complete(IBufferWriter<byte> writer, long id, string? error)
    {
        var frame = (OutboundFrame)writer;
        if (Interlocked.CompareExchange(ref frame.DeferralId, 0, id) != id)
        {
            throw new InvalidOperationException("The deferred response was completed already.");
        }

        if (error is null && frame.WireLength - FrameHeader.Size > _options.MaxFrameSize)
        {
            error = $"The response of {frame.WireLength - FrameHeader.Size} bytes exceeds the maximum frame size of {_options.MaxFrameSize} bytes (MeshOptions.MaxFrameSize).";
        }

        if (error is not null)
        {
            WriteError(frame, frame.CorrelationId, error);
        }

        if (Volatile.Read(ref _state) == Closed)
        {
            // Nobody will write it: give the buffer back rather than pool a frame of a dead connection.
            frame.Release();
        }
        else
        {
            // Not waiting for send room: the completer is an actor's turn, which must not block, and the number of
            // deferred responses (MaxDeferredResponses) bounds what this adds to the queue.
            Enqueue(frame);
        }

        if (Interlocked.Decrement(ref _deferredCount) < _options.MaxDeferredResponses && Volatile.Read(ref _deferredRoom) is not null)
        {
            Interlocked.Exchange(ref _deferredRoom, null)?.TrySetResult();
        }
    }

    /// <summary>Closes gracefully: sends nothing new, writes out everything already sent, ends the sending direction, and
    /// waits (at most <see cref="FramedConnectionOptions.CloseTimeout"/>, then aborts) for the peer to end its own.</summary>
    public async Task CloseAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Closing, Open) == Open)
        {
            _writeSignal.Signal();
        }

        Task completion = Completion;
        try
        {
            await completion.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            FramingLog.CloseTimedOut(_logger, _transportName, _peerName, _options.CloseTimeout);
            Abort("the peer did not close within the close timeout");
            await completion.ConfigureAwait(false);
        }
    }

    /// <summary>Closes both directions at once, discarding what is not sent; requests in flight fail.</summary>
    /// <param name="reason">Why, for the logs.</param>
    public void Abort(string reason) =>
        Fail(new ConnectionClosedException($"The connection was aborted: {reason}"), abortTransport: true);

    /// <summary>Aborts the connection if it is still open and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_completion is null)
        {
            Fail(new ConnectionClosedException("The connection was disposed."), abortTransport: true);
            await _transport.DisposeAsync().ConfigureAwait(false);
            _closed.Dispose();
            return;
        }

        if (Volatile.Read(ref _state) != Closed)
        {
            Abort("disposed");
        }

        await _completion.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        Task reading = ReadLoopAsync();
        Task writing = WriteLoopAsync();
        await reading.ConfigureAwait(false);
        await writing.ConfigureAwait(false);

        // Both directions ended: whatever is still waiting will never be answered.
        Fail(new ConnectionClosedException("The connection closed."), abortTransport: false);
        if (_timeoutTimer is not null)
        {
            await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        }

        await _transport.DisposeAsync().ConfigureAwait(false);
        while (_sendQueue.TryDequeue(out OutboundFrame? frame))
        {
            frame.Release();
        }

        while (_framePool.TryDequeue(out OutboundFrame? frame))
        {
            frame.Release();
        }

        _closed.Dispose();
        FramingLog.ConnectionClosed(_logger, _transportName, _peerName);
    }

    private async Task ReadLoopAsync()
    {
        PipeReader input = _transport.Input;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled || Volatile.Read(ref _state) == Closed)
                {
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                int frames = 0;
                long bytes = 0;
                while (FrameDecoder.TryRead(ref buffer, _options.MaxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> payload))
                {
                    frames++;
                    bytes += FrameHeader.Size + (long)header.PayloadLength;
                    await DispatchAsync(header, payload).ConfigureAwait(false);
                    if (Volatile.Read(ref _state) == Closed)
                    {
                        return;
                    }
                }

                if (frames > 0)
                {
                    _metrics.Received(frames, bytes);
                }

                long remaining = buffer.Length;
                if (!result.IsCompleted
                    && FrameDecoder.TryReadHeader(buffer, _options.MaxFrameSize, out FrameHeader large)
                    && large.PayloadLength >= (uint)_options.ReassemblyThreshold)
                {
                    if (!await ReassembleAsync(input, large, buffer).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    if (remaining > 0)
                    {
                        FrameDecoder.ThrowTruncated(remaining);
                    }

                    // The peer ended its direction: end ours once what is queued is written.
                    if (Interlocked.CompareExchange(ref _state, Closing, Open) == Open)
                    {
                        _writeSignal.Signal();
                    }

                    _requests.ForEachActive(static (request, id, _) => request.TryFail(id, new ConnectionClosedException("The peer closed the connection before answering.")), 0);
                    return;
                }
            }
        }
        catch (FrameFormatException ex)
        {
            FramingLog.MalformedFrame(_logger, _transportName, _peerName, ex.Error, ex);
            _metrics.Error(_transportName, ex.MetricKind);
            Fail(new ConnectionClosedException($"The connection was closed because the peer sent a malformed frame: {ex.Message}", ex), abortTransport: true);
        }
        catch (Exception ex) when (Volatile.Read(ref _state) != Closed)
        {
            FramingLog.ConnectionFailed(_logger, _transportName, _peerName, ex);
            _metrics.Error(_transportName, "connection_lost");
            Fail(new ConnectionClosedException($"The connection was lost: {ex.Message}", ex), abortTransport: true);
        }
        catch (Exception)
        {
            // Failing already (aborted or disposed): the read ended because of it.
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Copies a large frame out of the pipe as it arrives, so the pipe never holds more than its pause threshold.</summary>
    /// <returns><see langword="false"/> when the connection failed meanwhile.</returns>
    private async Task<bool> ReassembleAsync(PipeReader input, FrameHeader header, ReadOnlySequence<byte> buffer)
    {
        int length = (int)header.PayloadLength;
        byte[] array = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            ReadOnlySequence<byte> available = buffer.Slice(FrameHeader.Size);
            int filled = (int)Math.Min(available.Length, length);
            available.Slice(0, filled).CopyTo(array);
            input.AdvanceTo(available.GetPosition(filled));
            while (filled < length)
            {
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled || Volatile.Read(ref _state) == Closed)
                {
                    return false;
                }

                ReadOnlySequence<byte> chunk = result.Buffer;
                int take = (int)Math.Min(chunk.Length, length - filled);
                chunk.Slice(0, take).CopyTo(array.AsSpan(filled));
                filled += take;
                input.AdvanceTo(chunk.GetPosition(take));
                if (filled < length && result.IsCompleted)
                {
                    FrameDecoder.ThrowTruncated(FrameHeader.Size + (long)filled);
                }
            }

            _metrics.Received(1, FrameHeader.Size + (long)length);
            await DispatchAsync(header, new ReadOnlySequence<byte>(array, 0, length)).ConfigureAwait(false);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private ValueTask DispatchAsync(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        switch (header.Kind)
        {
            case FrameKind.Request:
                return HandleRequestAsync(header.CorrelationId, payload);
            case FrameKind.OneWay:
                return _handler is null ? default : HandleOneWayAsync(payload);
            case FrameKind.Response:
                CompleteRequest(header, payload);
                return default;
            case FrameKind.Error:
                FailRequest(header, payload);
                return default;
            case FrameKind.Ping:
                OutboundFrame pong = RentFrame(FrameKind.Pong, header.CorrelationId);
                WriteTo(pong, payload);
                return EnqueueFromReaderAsync(pong);
            default:
                // Pong: nothing waits for one yet. GoAway: the peer ends its direction next, which the read loop sees.
                return default;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HandleRequestAsync(ulong correlationId, ReadOnlySequence<byte> payload)
    {
        OutboundFrame frame = RentFrame(FrameKind.Response, correlationId);
        try
        {
            if (_handler is null)
            {
                throw new InvalidOperationException("This node does not accept requests on this connection.");
            }

            _handlerDeferred = false;
            frame.Owner = this;
            await _handler.HandleRequestAsync(this, payload, frame, _closed.Token).ConfigureAwait(false);
            if (_handlerDeferred)
            {
                // The handler owns the frame now (it may be sent, and reused, already): only keep the number bounded.
                _handlerDeferred = false;
                await WaitForDeferredRoomAsync().ConfigureAwait(false);
                return;
            }

            if (frame.WireLength - FrameHeader.Size > _options.MaxFrameSize)
            {
                throw new InvalidOperationException($"The response of {frame.WireLength - FrameHeader.Size} bytes exceeds the maximum frame size of {_options.MaxFrameSize} bytes (MeshOptions.MaxFrameSize).");
            }
        }
        catch (Exception ex) when (Volatile.Read(ref _state) != Closed)
        {
            FramingLog.RequestHandlerFailed(_logger, _peerName, ex);
            if (_handlerDeferred)
            {
                // Deferred before it failed: the handler still owns the response and must complete it.
                _handlerDeferred = false;
                return;
            }

            WriteError(frame, correlationId, ex.Message);
        }

        await EnqueueFromReaderAsync(frame).ConfigureAwait(false);
    }

    private void WriteError(OutboundFrame frame, ulong correlationId, string error)
    {
        frame.Reset(_options.PooledFrameMaxBytes);
        frame.Kind = FrameKind.Error;
        frame.CorrelationId = correlationId;
        string message = error.Length > MaxErrorMessageLength ? error[..MaxErrorMessageLength] : error;
        int written = Encoding.UTF8.GetBytes(message, frame.GetSpan(Encoding.UTF8.GetMaxByteCount(message.Length)));
        frame.Advance(written);
    }

    private ValueTask WaitForDeferredRoomAsync() =>
        Volatile.Read(ref _deferredCount) < _options.MaxDeferredResponses ? default : new ValueTask(WaitForDeferredRoomSlowAsync());

    private async Task WaitForDeferredRoomSlowAsync()
    {
        // The same lost-wake-up-free ordering as WaitForSpaceAsync: publish the waiter, then re-read the count.
        while (Volatile.Read(ref _deferredCount) >= _options.MaxDeferredResponses)
        {
            TaskCompletionSource waiter = Volatile.Read(ref _deferredRoom) ?? CreateWaiter(ref _deferredRoom);
            if (Volatile.Read(ref _state) == Closed || Volatile.Read(ref _deferredCount) < _options.MaxDeferredResponses)
            {
                return;
            }

            await waiter.Task.ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload)
    {
        try
        {
            await _handler!.HandleOneWayAsync(this, payload, _closed.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (Volatile.Read(ref _state) != Closed)
        {
            FramingLog.OneWayHandlerFailed(_logger, _peerName, ex);
        }
    }

    private void CompleteRequest(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        PendingRequest? request = _requests.Find(header.CorrelationId);
        if (request is null)
        {
            FramingLog.LateResponseDropped(_logger, header.Kind, header.CorrelationId, _peerName);
            return;
        }

        FramePayload copy = request.CopyAnswer(payload);
        if (!request.TryComplete(header.CorrelationId, copy))
        {
            copy.Discard();
            FramingLog.LateResponseDropped(_logger, header.Kind, header.CorrelationId, _peerName);
        }
    }

    private void FailRequest(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        PendingRequest? request = _requests.Find(header.CorrelationId);
        if (request is null || !request.TryFail(header.CorrelationId, new RemoteRequestException(Encoding.UTF8.GetString(payload))))
        {
            FramingLog.LateResponseDropped(_logger, header.Kind, header.CorrelationId, _peerName);
        }
    }

    private async Task WriteLoopAsync()
    {
        PipeWriter output = _transport.Output;
        try
        {
            while (true)
            {
                await _writeSignal.WaitAsync().ConfigureAwait(false);
                while (true)
                {
                    if (Volatile.Read(ref _state) == Closed)
                    {
                        return;
                    }

                    int frames = 0;
                    long bytes = 0;
                    while (bytes < _options.CoalescingBytes && _sendQueue.TryDequeue(out OutboundFrame? frame))
                    {
                        int length = frame.WireLength;
                        FrameEncoder.Write(output, frame.Kind, frame.CorrelationId, frame.Payload);
                        ReturnFrame(frame);
                        ReleaseQueued(length);
                        frames++;
                        bytes += length;
                    }

                    if (frames == 0)
                    {
                        break;
                    }

                    FlushResult flush = await output.FlushAsync().ConfigureAwait(false);
                    _metrics.Sent(frames, bytes);
                    if (flush.IsCanceled)
                    {
                        return;
                    }

                    if (flush.IsCompleted)
                    {
                        throw new ConnectionClosedException("The peer stopped reading.");
                    }

                    if (_handOffs.IsHolding && Volatile.Read(ref _state) == Open)
                    {
                        // Frames queued since are held for callers about to run; the last of them wakes this loop.
                        break;
                    }
                }

                if (Volatile.Read(ref _state) == Closing && _sendQueue.IsEmpty)
                {
                    // Graceful close: everything queued is written; end our direction.
                    await output.CompleteAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception ex) when (Volatile.Read(ref _state) != Closed)
        {
            FramingLog.ConnectionFailed(_logger, _transportName, _peerName, ex);
            _metrics.Error(_transportName, "connection_lost");
            Fail(new ConnectionClosedException($"The connection was lost: {ex.Message}", ex), abortTransport: true);
        }
        catch (Exception)
        {
            // Failing already: the write ended because of it.
        }
    }

    private void Fail(ConnectionClosedException reason, bool abortTransport)
    {
        if (Interlocked.CompareExchange(ref _closeReason, reason, null) is not null)
        {
            return;
        }

        // A full fence before reading the requests in flight (see PendingRequest.Start).
        Interlocked.Exchange(ref _state, Closed);
        if (abortTransport)
        {
            // Wake both loops, then reset the connection; the peer sees an error.
            _transport.Input.CancelPendingRead();
            _transport.Output.CancelPendingFlush();
            _transport.Abort(reason.Message);
        }

        try
        {
            _closed.Cancel();
        }
        catch (AggregateException ex)
        {
            FramingLog.ConnectionFailed(_logger, _transportName, _peerName, ex);
        }

        _requests.ForEachActive(static (request, id, error) => request.TryFail(id, error), reason);
        Interlocked.Exchange(ref _spaceAvailable, null)?.TrySetException(reason);
        Interlocked.Exchange(ref _deferredRoom, null)?.TrySetResult();
        _writeSignal.Signal();
    }

    private ConnectionClosedException ClosedError() =>
        Volatile.Read(ref _closeReason) ?? new ConnectionClosedException("The connection is closing: it sends nothing new.");

    private void CheckPayloadLength(int length)
    {
        if (length > _options.MaxFrameSize)
        {
            throw new ArgumentException($"The payload of {length} bytes exceeds the maximum frame size of {_options.MaxFrameSize} bytes (MeshOptions.MaxFrameSize).", "payload");
        }
    }

    private void ExpireRequests()
    {
        // Every hold ends when its callers start (see HandOffs); this only bounds how long a frame could wait if one
        // never did.
        ReleaseHeldFrames();
        long now = Environment.TickCount64;
        _requests.ForEachActive(
            static (request, id, now) =>
            {
                if (request.Deadline <= now)
                {
                    request.TryFail(id, new TimeoutException("The peer did not answer the request within its timeout."));
                }
            },
            now);
    }

    private OutboundFrame RentFrame(FrameKind kind, ulong correlationId)
    {
        if (_framePool.TryDequeue(out OutboundFrame? frame))
        {
            // Nobody touches a pooled frame, so its cost is what it was when it was returned.
            Interlocked.Add(ref _framePoolBytes, -PooledCost(frame));
        }
        else
        {
            frame = new OutboundFrame();
        }

        frame.Kind = kind;
        frame.CorrelationId = correlationId;
        return frame;
    }

    private void ReturnFrame(OutboundFrame frame)
    {
        frame.Reset(_options.PooledFrameMaxBytes);
        long cost = PooledCost(frame);
        if (Interlocked.Add(ref _framePoolBytes, cost) <= _options.FramePoolBytes)
        {
            _framePool.Enqueue(frame);
        }
        else
        {
            Interlocked.Add(ref _framePoolBytes, -cost);
            frame.Release();
        }
    }

    /// <summary>What an idle frame counts against <see cref="FramedConnectionOptions.FramePoolBytes"/>: its buffer and
    /// roughly the frame object itself, so even frames without a buffer keep the pool bounded.</summary>
    private static long PooledCost(OutboundFrame frame) => frame.Capacity + 64;

    private static void WriteTo(OutboundFrame frame, in ReadOnlySequence<byte> payload)
    {
        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            frame.Write(segment.Span);
        }
    }

    /// <summary>Queues <paramref name="frame"/> unless the queue is full (backpressure).</summary>
    private bool TryEnqueue(OutboundFrame frame) => TryEnqueue(frame, _options.MaxQueuedSendBytes);

    private bool TryEnqueue(OutboundFrame frame, long limit)
    {
        if (Volatile.Read(ref _queuedBytes) >= limit)
        {
            return false;
        }

        Enqueue(frame);
        return true;
    }

    private void Enqueue(OutboundFrame frame)
    {
        long queued = Interlocked.Add(ref _queuedBytes, frame.WireLength);
        _sendQueue.Enqueue(frame);

        // Callers this connection just answered are about to run and send: leave with them (see HandOffs).
        if (queued < _options.CoalescingBytes && Volatile.Read(ref _state) == Open && _handOffs.TryHold())
        {
            return;
        }

        _writeSignal.Signal();
    }

    /// <summary>The last caller a hold waited for has started: wake the writer for the frames held.</summary>
    private void ReleaseHeldFrames()
    {
        if (!_sendQueue.IsEmpty)
        {
            _writeSignal.Signal();
        }
    }

    private void ReleaseQueued(int length)
    {
        // Written into the pipe: room for senders. Wake one waiting group (see WaitForSpaceAsync for the ordering).
        if (Interlocked.Add(ref _queuedBytes, -length) < _options.MaxQueuedSendBytes && Volatile.Read(ref _spaceAvailable) is not null)
        {
            Interlocked.Exchange(ref _spaceAvailable, null)?.TrySetResult();
        }
    }

    private ValueTask EnqueueFromReaderAsync(OutboundFrame frame)
    {
        if (Volatile.Read(ref _state) == Closed)
        {
            ReturnFrame(frame);
            return default;
        }

        // Responses get a larger allowance than callers (see FramedConnectionOptions.MaxResponseBacklogBytes).
        long limit = (long)_options.MaxQueuedSendBytes + _options.MaxResponseBacklogBytes;
        return TryEnqueue(frame, limit) ? default : EnqueueWhenSpaceAsync(frame, limit, CancellationToken.None);
    }

    private ValueTask EnqueueWhenSpaceAsync(OutboundFrame frame, CancellationToken cancellationToken) =>
        EnqueueWhenSpaceAsync(frame, _options.MaxQueuedSendBytes, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EnqueueWhenSpaceAsync(OutboundFrame frame, long limit, CancellationToken cancellationToken)
    {
        try
        {
            await WaitForSpaceAsync(limit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ReturnFrame(frame);
            throw;
        }

        Enqueue(frame);
    }

    private async Task EnqueueRequestWhenSpaceAsync(OutboundFrame frame, CancellationToken cancellationToken)
    {
        try
        {
            await EnqueueWhenSpaceAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConnectionClosedException or OperationCanceledException)
        {
            // The request itself is failed by the connection's failure or its own cancellation.
        }
    }

    private async Task WaitForSpaceAsync(long limit, CancellationToken cancellationToken)
    {
        // Ordering that loses no wake-up: a waiter publishes its task, then re-reads the count; the write loop lowers the
        // count, then takes the task. Either the waiter sees the lower count or the write loop sees the task.
        // The write loop wakes waiters once the queue is below MaxQueuedSendBytes, the lowest limit, which frees every waiter.
        while (Volatile.Read(ref _queuedBytes) >= limit)
        {
            TaskCompletionSource waiter = Volatile.Read(ref _spaceAvailable) ?? CreateWaiter(ref _spaceAvailable);
            if (Volatile.Read(ref _state) == Closed)
            {
                throw ClosedError();
            }

            if (Volatile.Read(ref _queuedBytes) < limit)
            {
                return;
            }

            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource CreateWaiter(ref TaskCompletionSource? slot)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Interlocked.CompareExchange(ref slot, created, null) ?? created;
    }
}
