using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// A bidirectional QUIC stream. Received bytes arrive in <see cref="Input"/>; sends take a batch
/// of buffers, are copied once by the native library and written to QUIC in order.
/// </summary>
/// <remarks>
/// <para>Threads: the native library delivers this stream's data, finish and abort events from one task
/// at a time, so <see cref="Input"/>'s writer has a single producer; <see cref="_receiveGate"/>
/// only orders those events against <see cref="Dispose"/>.</para>
/// <para>Sending: one <see cref="SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/> may be outstanding at a time (like
/// a PipeWriter's flush). Once the native library has copied a batch the caller's buffers are free, so a send completes
/// at once while fewer than <see cref="QuicEndpointOptions.SendWindowBytes"/> copied bytes wait for QUIC; past that it
/// completes when SendCompleted events have brought the queue back below the window (a send that flow control lets
/// through completes inside the native call; one it holds back completes on the native I/O thread). The caller
/// therefore recycles its buffers without waiting for the peer, while the bytes queued
/// natively stay bounded. <see cref="_queuedBytes"/> is added to by the sender and subtracted from by completions
/// (Interlocked); the waiter, <see cref="_send"/>, is reused for every wait, so sending allocates nothing. A sender
/// publishes <see cref="_sendPending"/> before it re-reads the queue, and a completion subtracts before it reads
/// <see cref="_sendPending"/> (both full fences), so at least one of them sees the other; <see cref="_sendGate"/> makes
/// sure only one completes the waiter.</para>
/// </remarks>
internal sealed class QuicStream : IDisposable, IValueTaskSource
{
    private readonly QuicEndpoint _endpoint;
    private readonly Pipe _input;
    private readonly long _sendWindow;
    private readonly Lock _receiveGate = new();
    private readonly Lock _sendGate = new();
    private ManualResetValueTaskSourceCore<bool> _send = new() { RunContinuationsAsynchronously = true };
    private StreamSafeHandle? _handle;
    private QuicTransportException? _sendFailure;
    private long _queuedBytes;
    private long _waitBelow;
    private bool _receiveDone;
    private int _sendPending;
    private int _sending;
    private int _disposed;

    internal QuicStream(QuicEndpoint endpoint, ulong token)
    {
        _endpoint = endpoint;
        Token = token;
        QuicEndpointOptions options = endpoint.Options;
        _sendWindow = options.SendWindowBytes;
        _input = new Pipe(new PipeOptions(
            pool: QuicBufferPool.Default,
            pauseWriterThreshold: options.ReceivePauseThreshold,
            resumeWriterThreshold: options.ReceiveResumeThreshold,
            useSynchronizationContext: false));
    }

    /// <summary>The token native events for this stream carry.</summary>
    internal ulong Token { get; }

    /// <summary>Bytes received from the peer; completes when the peer finishes (or faults when it resets).</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Bytes handed to the native library and not yet written to QUIC.</summary>
    internal long QueuedBytes => Volatile.Read(ref _queuedBytes);

    /// <summary>Sends one buffer; see <see cref="SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/>.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, bool finish = false) =>
        SendAsync(new ReadOnlySpan<ReadOnlyMemory<byte>>(in data), finish);

    /// <summary>
    /// Sends a batch of buffers in one native call; with <paramref name="finish"/> the send side
    /// ends after it. The buffers may be reused as soon as this returns. The task completes once
    /// fewer than <see cref="QuicEndpointOptions.SendWindowBytes"/> bytes of this stream wait for
    /// QUIC (at once, usually); with <paramref name="finish"/>, once every byte has been handed to QUIC.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another send has not completed yet.</exception>
    /// <exception cref="QuicTransportException">The stream or connection failed.</exception>
    public unsafe ValueTask SendAsync(ReadOnlySpan<ReadOnlyMemory<byte>> buffers, bool finish = false)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        StreamSafeHandle handle = _handle ?? throw new InvalidOperationException("The stream is not open.");
        if (Interlocked.CompareExchange(ref _sending, 1, 0) != 0)
        {
            throw new InvalidOperationException("A send is already in progress on this stream.");
        }

        long total = 0;
        MemoryHandle[] pins = ArrayPool<MemoryHandle>.Shared.Rent(buffers.Length);
        MeshQuicBytes[] ranges = ArrayPool<MeshQuicBytes>.Shared.Rent(Math.Max(buffers.Length, 1));
        try
        {
            for (int i = 0; i < buffers.Length; i++)
            {
                pins[i] = buffers[i].Pin();
                ranges[i] = new MeshQuicBytes((byte*)pins[i].Pointer, buffers[i].Length);
                total += buffers[i].Length;
            }

            // A failed write fails every later send the same way, each with its own exception object.
            if (Volatile.Read(ref _sendFailure) is { } failed)
            {
                throw QuicTransportException.Create(failed.Status, failed.ErrorCode, failed.Message);
            }

            // Counted before the call: the completion can arrive on a native thread before the call returns.
            Interlocked.Add(ref _queuedBytes, total);
            QuicStatus status;
            fixed (MeshQuicBytes* p = ranges)
            {
                // The send token is the batch's length, which its SendCompleted event carries back.
                status = NativeMethods.StreamSend(handle, p, (nuint)buffers.Length, finish ? NativeMethods.SendFin : 0, (ulong)total);
            }

            if (status != QuicStatus.Ok)
            {
                Interlocked.Add(ref _queuedBytes, -total);
                throw QuicTransportException.Create(status, 0, QuicNative.LastError());
            }
        }
        catch
        {
            Volatile.Write(ref _sending, 0);
            throw;
        }
        finally
        {
            for (int i = 0; i < buffers.Length; i++)
            {
                pins[i].Dispose();
                pins[i] = default;
            }

            ArrayPool<MemoryHandle>.Shared.Return(pins);
            ArrayPool<MeshQuicBytes>.Shared.Return(ranges);
        }

        long waitBelow = finish ? 1 : _sendWindow;
        if (Volatile.Read(ref _queuedBytes) < waitBelow)
        {
            Volatile.Write(ref _sending, 0);
            return default;
        }

        short version;
        lock (_sendGate)
        {
            _send.Reset();
            version = _send.Version;
            _waitBelow = waitBelow;
            Interlocked.Exchange(ref _sendPending, 1);
        }

        // Re-read after publishing the waiter: a completion that subtracted before it could see the waiter.
        if (Volatile.Read(ref _queuedBytes) < waitBelow)
        {
            CompleteSend(null);
        }

        return new ValueTask(this, version);
    }

    /// <summary>Abandons both directions with an application error code the peer sees.</summary>
    public void Abort(ulong errorCode)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_handle is { } handle)
        {
            QuicNative.ThrowIfFailed(NativeMethods.StreamAbort(handle, errorCode));
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _endpoint.Unregister(Token);
        _handle?.Dispose();
        var disposed = new QuicConnectionException(QuicStatus.Closed, 0, "The stream was disposed.");
        CompleteSend(disposed);
        lock (_receiveGate)
        {
            if (!_receiveDone)
            {
                _receiveDone = true;
                _input.Writer.Complete(disposed);
            }
        }
    }

    internal void Attach(StreamSafeHandle handle)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            handle.Dispose();
            return;
        }

        _handle = handle;
    }

    /// <summary>Copies one batch into <see cref="Input"/>; asks to pause reading while the pipe is full.</summary>
    internal int OnData(ReadOnlySpan<MeshQuicEvent> batch)
    {
        ValueTask<FlushResult> flush;
        lock (_receiveGate)
        {
            if (_receiveDone)
            {
                return 0;
            }

            PipeWriter writer = _input.Writer;
            foreach (ref readonly MeshQuicEvent e in batch)
            {
                writer.Write(e.Span);
            }

            flush = writer.FlushAsync();
        }

        if (flush.IsCompleted)
        {
            flush.GetAwaiter().GetResult();
            return 0;
        }

        _ = ResumeWhenFlushedAsync(flush);
        return NativeMethods.PauseReading;
    }

    internal void OnFinished()
    {
        lock (_receiveGate)
        {
            if (!_receiveDone)
            {
                _receiveDone = true;
                _input.Writer.Complete();
            }
        }
    }

    internal void OnAborted(QuicTransportException reason)
    {
        lock (_receiveGate)
        {
            if (!_receiveDone)
            {
                _receiveDone = true;
                _input.Writer.Complete(reason);
            }
        }
    }

    internal void OnSendCompleted(QuicStatus status, ulong sentBytes, string message)
    {
        long queued = Interlocked.Add(ref _queuedBytes, -(long)sentBytes);
        if (status != QuicStatus.Ok)
        {
            QuicTransportException failure = QuicTransportException.Create(status, 0, message);
            Interlocked.CompareExchange(ref _sendFailure, failure, null);
            CompleteSend(failure);
            return;
        }

        if (Volatile.Read(ref _sendPending) != 0 && queued < Volatile.Read(ref _waitBelow))
        {
            CompleteSend(null);
        }
    }

    /// <summary>Completes the waiting send, if one waits, with <paramref name="failure"/> or success.</summary>
    private void CompleteSend(Exception? failure)
    {
        lock (_sendGate)
        {
            // A completion may have read the queue before a newer send added to it: success needs the queue as it is now.
            if (_sendPending == 0 || (failure is null && Volatile.Read(ref _queuedBytes) >= _waitBelow))
            {
                return;
            }

            Volatile.Write(ref _sendPending, 0);
            if (failure is null)
            {
                _send.SetResult(true);
            }
            else
            {
                _send.SetException(failure);
            }
        }
    }

    private async Task ResumeWhenFlushedAsync(ValueTask<FlushResult> flush)
    {
        await flush.ConfigureAwait(false);
        if (Volatile.Read(ref _disposed) == 0 && _handle is { } handle)
        {
            try
            {
                QuicNative.ThrowIfFailed(NativeMethods.StreamResumeReading(handle));
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nothing to resume.
            }
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _send.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _send.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _send.GetResult(token);
        }
        finally
        {
            Volatile.Write(ref _sending, 0);
        }
    }
}
