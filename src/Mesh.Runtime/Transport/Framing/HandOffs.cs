namespace Mesh.Transport.Framing;

/// <summary>
/// Counts the answers a connection's read loop has handed to callers whose continuations wait in the thread pool, so
/// that frames queued before those callers have run can be held and leave in one flush with what they send next.
/// </summary>
/// <remarks>
/// <para>Why: the read loop completes a burst of answers (all that arrived in one read), and each caller's continuation
/// is queued on the pool. Most callers send their next request as soon as they run. Without a hold, the write loop
/// wakes for the first of those requests and flushes it with the few sent while it was starting, then the next few, and
/// so on: a burst of 200 answers came back as forty or fifty small sends, each a datagram with its own system call,
/// encryption and acknowledgement, on both nodes. With it, the requests of one burst go out together, as they came in.
/// (Three-node hot actor: 3.5–7 frames per flush without the hold in about half the runs, 200 with it; docs/benchmarks.md.)</para>
/// <para>The hold is bounded by the callers that were already handed an answer: a frame queued when <c>n</c> answers
/// had been handed off waits until the <c>n</c>-th caller has started, not for any answer that arrives later. Only
/// callers whose continuation runs on the pool count (see <see cref="PendingRequest"/>), and every such continuation
/// starts, so every hold ends. A frame queued with nobody pending is sent at once, as before: a lone caller's latency
/// does not change.</para>
/// <para>Threads: <see cref="Queued"/> is called by the read loop only; <see cref="Started"/> by the callers;
/// <see cref="TryHold"/> by any sender. <see cref="_holdUntil"/> only grows. A sender publishes its hold (a full
/// fence) before it reads <see cref="_started"/> again, and a caller increments <see cref="_started"/> (a full fence)
/// before it reads <see cref="_holdUntil"/>, so either the sender sees that the caller it waits for has started (and
/// sends at once) or that caller sees the hold (and releases it): a held frame is never forgotten.</para>
/// </remarks>
internal sealed class HandOffs(Action release)
{
    private long _queued;
    private long _started;
    private long _holdUntil;

    /// <summary>Gets whether frames are held for callers that have not started yet.</summary>
    public bool IsHolding => Volatile.Read(ref _started) < Volatile.Read(ref _holdUntil);

    /// <summary>The read loop is about to complete an answer whose caller's continuation will run on the pool.</summary>
    public void Queued() => Volatile.Write(ref _queued, _queued + 1);

    /// <summary>A caller counted by <see cref="Queued"/> has started. When it is the last one a hold waits for, the
    /// release callback runs (and wakes the writer).</summary>
    public void Started()
    {
        long started = Interlocked.Increment(ref _started);
        if (started == Volatile.Read(ref _holdUntil))
        {
            release();
        }
    }

    /// <summary>Decides whether a frame just queued waits: <see langword="true"/> while callers that were handed an
    /// answer before now have not all started; the last of them releases it.</summary>
    public bool TryHold()
    {
        long queued = Volatile.Read(ref _queued);
        if (Volatile.Read(ref _started) >= queued)
        {
            return false;
        }

        long hold;
        while ((hold = Volatile.Read(ref _holdUntil)) < queued && Interlocked.CompareExchange(ref _holdUntil, queued, hold) != hold)
        {
        }

        // The hold is published: the caller that reaches it either sees it, or started before this reads.
        return Volatile.Read(ref _started) < queued;
    }
}
