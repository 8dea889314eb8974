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
/// the completion, everyone else does nothing. The caller's <see cref="GetResult"/> then recycles it.
/// </remarks>
internal sealed class PendingRequest : IValueTaskSource<FramePayload>
{
    private static readonly Action<object?, CancellationToken> CancelCallback = static (state, token) => ((PendingRequest)state!).Cancel(token);

    private readonly PendingRequestTable _table;
    private ManualResetValueTaskSourceCore<FramePayload> _core = new() { RunContinuationsAsynchronously = true };
    private ulong _activeId;
    private uint _generation;
    private long _deadline;
    private CancellationTokenRegistration _registration;

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

    public bool TryComplete(ulong id, FramePayload payload)
    {
        if (id == 0 || Interlocked.CompareExchange(ref _activeId, 0, id) != id)
        {
            return false;
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
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Waits for a cancellation callback that is running, so none can touch the next use of this slot.
            _registration.Dispose();
            _registration = default;
            _core.Reset();
            _table.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Cancel(CancellationToken token) => TryFail(ActiveId, new OperationCanceledException("The request was cancelled by its caller.", token));
}
