using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;
using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// A bidirectional QUIC stream. Received bytes arrive in <see cref="Input"/>; sends take a batch
/// of buffers, are copied once by the native library and complete when written to QUIC.
/// </summary>
/// <remarks>
/// Threads: the native library delivers this stream's data, finish and abort events from one task
/// at a time, so <see cref="Input"/>'s writer has a single producer; <see cref="_receiveGate"/>
/// only orders those events against <see cref="Dispose"/>. One send may be outstanding at a time
/// (like a PipeWriter's flush); its completion comes from a native thread through
/// <see cref="_send"/>, reused for every send, so sending allocates nothing.
/// </remarks>
internal sealed class QuicStream : IDisposable, IValueTaskSource
{
    private readonly QuicEndpoint _endpoint;
    private readonly Pipe _input;
    private readonly Lock _receiveGate = new();
    private readonly Lock _sendGate = new();
    private ManualResetValueTaskSourceCore<bool> _send = new() { RunContinuationsAsynchronously = true };
    private StreamSafeHandle? _handle;
    private bool _receiveDone;
    private bool _sendPending;
    private int _sending;
    private int _disposed;

    internal QuicStream(QuicEndpoint endpoint, ulong token)
    {
        _endpoint = endpoint;
        Token = token;
        QuicEndpointOptions options = endpoint.Options;
        _input = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.ReceivePauseThreshold,
            resumeWriterThreshold: options.ReceiveResumeThreshold,
            useSynchronizationContext: false));
    }

    /// <summary>The token native events for this stream carry.</summary>
    internal ulong Token { get; }

    /// <summary>Bytes received from the peer; completes when the peer finishes (or faults when it resets).</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Sends one buffer; see <see cref="SendAsync(ReadOnlySpan{ReadOnlyMemory{byte}}, bool)"/>.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, bool finish = false) =>
        SendAsync(new ReadOnlySpan<ReadOnlyMemory<byte>>(in data), finish);

    /// <summary>
    /// Sends a batch of buffers in one native call; with <paramref name="finish"/> the send side
    /// ends after it. The buffers may be reused as soon as this returns; the task completes when
    /// the batch has been handed to QUIC.
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

        MemoryHandle[] pins = ArrayPool<MemoryHandle>.Shared.Rent(buffers.Length);
        MeshQuicBytes[] ranges = ArrayPool<MeshQuicBytes>.Shared.Rent(Math.Max(buffers.Length, 1));
        short version;
        try
        {
            for (int i = 0; i < buffers.Length; i++)
            {
                pins[i] = buffers[i].Pin();
                ranges[i] = new MeshQuicBytes((byte*)pins[i].Pointer, buffers[i].Length);
            }

            lock (_sendGate)
            {
                _send.Reset();
                _sendPending = true;
                version = _send.Version;
            }

            QuicStatus status;
            fixed (MeshQuicBytes* p = ranges)
            {
                status = NativeMethods.StreamSend(handle, p, (nuint)buffers.Length, finish ? NativeMethods.SendFin : 0, (ulong)(ushort)version);
            }

            if (status != QuicStatus.Ok)
            {
                string message = QuicNative.LastError();
                lock (_sendGate)
                {
                    _sendPending = false;
                }

                throw QuicTransportException.Create(status, 0, message);
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

    internal void OnSendCompleted(QuicStatus status, ulong sendToken, string message)
    {
        lock (_sendGate)
        {
            if (!_sendPending || (ushort)sendToken != (ushort)_send.Version)
            {
                return;
            }

            _sendPending = false;
            if (status == QuicStatus.Ok)
            {
                _send.SetResult(true);
            }
            else
            {
                _send.SetException(QuicTransportException.Create(status, 0, message));
            }
        }
    }

    private void CompleteSend(Exception failure)
    {
        lock (_sendGate)
        {
            if (_sendPending)
            {
                _sendPending = false;
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
