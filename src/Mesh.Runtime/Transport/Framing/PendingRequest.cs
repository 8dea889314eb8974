using System.Buffers;
using System.Numerics;
using System.Threading.Tasks.Sources;

namespace Mesh.Transport.Framing;

/// <summary>
/// The completion of one request in flight: a reusable <see cref="IValueTaskSource{TResult}"/> that owns one slot of a
/// <see cref="PendingRequestTable"/>. Its correlation id is <c>(generation &lt;&lt; 32) | slot</c>, so the read loop finds
/// it by indexing, and a response to an earlier use of the slot (a late answer to a timed-out request) has another
/// generation and is dropped.
/// </summary>
/// <remarks>
/// Threads: the caller starts it; the read loop (response), the timeout scan, a cancellation callback and a connection
/// failure race to complete it. <see cref="_activeId"/> decides: whoever swaps it from the request's id to zero owns
/// the completion, everyone else does nothing. The caller's <see cref="GetResult"/> then recycles it, or, when the
/// answer is in this request's own buffer, the disposal of that answer does.
/// <para>The answer buffer: a response of up to <see cref="MaxAnswerBufferLength"/> bytes is copied into an array this
/// request keeps from one use to the next, so a warm connection answers without renting, without returning and
/// without touching any state another request shares. Only the connection's read loop writes it, one response after
/// another, and nobody reads it until the response written last was handed to the caller, who holds the slot (out of
/// the free list) until it disposes the answer; a late response to an earlier use is written and ignored before the
/// next response can be.</para>
/// </remarks>
internal sealed class PendingRequest : IValueTaskSource<FramePayload>
{
    private static readonly Action<object?, CancellationToken> CancelCallback = static (state, token) => ((PendingRequest)state!).Cancel(token);

    /// <summary>The largest response kept in the request's own buffer; larger ones use <see cref="PayloadPool"/>.</summary>
    internal const int MaxAnswerBufferLength = 1024;

    private readonly PendingRequestTable _table;
    private byte[]? _answer;
    private ManualResetValueTaskSourceCore<FramePayload> _core = new() { RunContinuationsAsynchronously = true };
    private ulong _activeId;
    private uint _generation;
    private long _deadline;
    private CancellationTokenRegistration _registration;

    // Whether the caller's continuation, registered before the answer came, runs on the thread pool (set by
    // OnCompleted), and whether TryComplete counted this answer as handed off to it (cleared when the caller starts).
    private bool _continuesOnPool;
    private bool _handedOff;

    internal PendingRequest(PendingRequestTable table, int slot)
    {
        _table = table;
        Slot = slot;
    }

    public int Slot { get; }

    /// <summary>Gets the id while the request is in flight, zero otherwise.</summary>
    public ulong ActiveId => Volatile.Read(ref _activeId);

    /// <summary>Gets when the request times out, in <see cref="Environment.TickCount64"/> milliseconds.</summary>
    public long Deadline => Volatile.Read(ref _deadline);

    /// <summary>Puts the request in flight. Called by the caller that rented it, before the request is sent.</summary>
    public ulong Start(long deadline)
    {
        _generation = _generation == uint.MaxValue ? 1 : _generation + 1;
        ulong id = ((ulong)_generation << 32) | (uint)Slot;
        Volatile.Write(ref _deadline, deadline);

        // A full fence: the caller reads the connection's state right after this, and a failing connection writes its
        // state before it reads the ids in flight, so one of the two always sees the other.
        Interlocked.Exchange(ref _activeId, id);
        return id;
    }

    /// <summary>Completes the caller's wait when the first registration of <paramref name="cancellationToken"/> fires.</summary>
    public void RegisterCancellation(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(CancelCallback, this);
        }
    }

    public ValueTask<FramePayload> AsValueTask() => new(this, _core.Version);

    /// <summary>Copies a response to this request into its answer buffer (growing it if needed), or into a pooled array
    /// when it is larger than <see cref="MaxAnswerBufferLength"/>. Called by the read loop only.</summary>
    public FramePayload CopyAnswer(in ReadOnlySequence<byte> payload)
    {
        long length = payload.Length;
        if (length == 0 || length > MaxAnswerBufferLength)
        {
            // Empty: no payload at all; large: a pooled array, so the slot does not keep a large buffer.
            return FramePayload.CopyOf(payload);
        }

        byte[] buffer = _answer is { } current && current.Length >= length ? current : (_answer = new byte[Math.Max(64, BitOperations.RoundUpToPowerOf2((uint)length))]);
        payload.CopyTo(buffer);
        return new FramePayload(buffer, (int)length, this);
    }

    public bool TryComplete(ulong id, FramePayload payload)
    {
        if (id == 0 || Interlocked.CompareExchange(ref _activeId, 0, id) != id)
        {
            return false;
        }

        // A caller that waits on the pool will run, and its GetResult ends the hand-off (see HandOffs): count it before
        // the continuation can be queued.
        if (Volatile.Read(ref _continuesOnPool))
        {
            _handedOff = true;
            _table.HandOffs.Queued();
        }

        _core.SetResult(payload);
        return true;
    }

    public bool TryFail(ulong id, Exception exception)
    {
        if (id == 0 || Interlocked.CompareExchange(ref _activeId, 0, id) != id)
        {
            return false;
        }

        _core.SetException(exception);
        return true;
    }

    public FramePayload GetResult(short token)
    {
        if (_handedOff)
        {
            _handedOff = false;
            _table.HandOffs.Started();
        }

        bool answerHeld = false;
        try
        {
            FramePayload answer = _core.GetResult(token);
            answerHeld = answer.IsOwnedBy(this);
            return answer;
        }
        finally
        {
            // Waits for a cancellation callback that is running, so none can touch the next use of this slot.
            _registration.Dispose();
            _registration = default;
            Volatile.Write(ref _continuesOnPool, false);
            _core.Reset();

            // An answer in this request's buffer keeps the slot until the caller disposes it (ReleaseAnswer).
            if (!answerHeld)
            {
                _table.Return(this);
            }
        }
    }

    /// <summary>The caller is done with the answer in this request's buffer: the slot is free for the next request.</summary>
    internal void ReleaseAnswer() => _table.Return(this);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        // Before registering, so an answer that completes the registration counts the hand-off.
        Volatile.Write(ref _continuesOnPool, RunsOnPool(flags));
        _core.OnCompleted(continuation, state, token, flags);
    }

    /// <summary>Whether <see cref="ManualResetValueTaskSourceCore{TResult}"/> runs a continuation registered with
    /// <paramref name="flags"/> on the thread pool (it does unless it captures a synchronization context or scheduler).</summary>
    private static bool RunsOnPool(ValueTaskSourceOnCompletedFlags flags)
    {
        if ((flags & ValueTaskSourceOnCompletedFlags.UseSchedulingContext) == 0)
        {
            return true;
        }

        SynchronizationContext? context = SynchronizationContext.Current;
        return (context is null || context.GetType() == typeof(SynchronizationContext)) && TaskScheduler.Current == TaskScheduler.Default;
    }

    private void Cancel(CancellationToken token) => TryFail(ActiveId, new OperationCanceledException("The request was cancelled by its caller.", token));
}
