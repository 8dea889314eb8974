using System.Diagnostics;

namespace Mesh.Runtime;

/// <summary>A mailbox item with a deadline that <see cref="CallDeadlines"/> enforces.</summary>
internal abstract class TimedWorkItem : WorkItem
{
    /// <summary>When the item times out, a <see cref="Stopwatch.GetTimestamp"/> value; 0 while it has no deadline.
    /// Written by the item (<see cref="CallDeadlines.Arm"/>, <see cref="CallDeadlines.Disarm"/>), read by the
    /// sweep.</summary>
    internal long Deadline;

    /// <summary>1 while the item is on the sweep's list; only the sweep sets it back to 0.</summary>
    internal int Listed;

    /// <summary>The next item on the sweep's list.</summary>
    internal TimedWorkItem? SweepNext;

    /// <summary>Called by the sweep when <see cref="Deadline"/> has passed. The item decides, from its own state, whether
    /// it still times out (it may have completed, or a new use of a pooled item may have armed a later deadline: then it
    /// calls <see cref="CallDeadlines.List"/> again).</summary>
    internal abstract void OnDeadline();

    /// <summary>Cancels <paramref name="cts"/>, the token an actor was given for a call. A callback the actor registered
    /// on it that throws is logged (event 8) rather than thrown: this runs on the deadline sweep or in a caller's
    /// cancellation callback, where an exception would end the process or be lost, and the caller gets its answer
    /// regardless.</summary>
    protected static void CancelActorToken(CancellationTokenSource? cts, MeshRuntime? runtime, ActorId actor, string method, string reason)
    {
        try
        {
            cts?.Cancel();
        }
        catch (AggregateException exception)
        {
            runtime?.Log.CancellationCallbackFailed(actor, method, reason, exception);
        }
    }
}

/// <summary>
/// The timeouts of calls that wait in a mailbox or run asynchronously: one process-wide timer sweeps, every
/// <see cref="Resolution"/>, the items that have a deadline, instead of a <see cref="Timer"/> per call. Arming is a
/// fenced write and disarming a plain one (and, for an item not yet on the list, arming pushes it there): a
/// <see cref="Timer.Change(TimeSpan, TimeSpan)"/> takes a lock of the runtime's timer queues twice per call, which cost
/// about a fifth of a queued local call with two threads contending (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// <para>The list is intrusive (<see cref="TimedWorkItem.SweepNext"/>) and an item is on it at most once
/// (<see cref="TimedWorkItem.Listed"/>), so pooled items cost nothing to track again: an item that completed stays
/// listed until a sweep finds it without a deadline, and re-arming it for its next use finds it listed already. The
/// list therefore holds at most as many items as exist (callers in flight, plus pooled items), whatever the call rate.
/// The sweep takes the whole list, unlists each item, then re-reads its deadline: re-lists it when it is still ahead,
/// calls <see cref="TimedWorkItem.OnDeadline"/> when it has passed, drops it when there is none.</para>
/// <para>A call therefore times out between its deadline and one <see cref="Resolution"/> after it. The timer runs only
/// while something is listed.</para>
/// <para>Lost-arm freedom: <see cref="Arm"/> publishes the deadline with a full fence before it reads
/// <see cref="TimedWorkItem.Listed"/>; the sweep clears <see cref="TimedWorkItem.Listed"/> with a full fence before it
/// reads the deadline. Either the arming thread sees the item unlisted and lists it, or the sweep sees the deadline and
/// keeps it.</para>
/// </remarks>
internal static class CallDeadlines
{
    /// <summary>How often the sweep runs while items are listed: how late, at most, a call times out.</summary>
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(20);

    private static readonly Lock s_gate = new();
    private static readonly Timer s_timer = new(static _ => Sweep(), null, Timeout.Infinite, Timeout.Infinite);
    private static TimedWorkItem? s_head;
    private static int s_running;
    private static int s_sweeping;

    /// <summary>Gets whether the sweep's timer is running (for tests).</summary>
    internal static bool IsRunning => Volatile.Read(ref s_running) != 0;

    /// <summary>Gets whether <paramref name="item"/> is on the sweep's list (for tests).</summary>
    internal static bool IsListed(TimedWorkItem item) => Volatile.Read(ref item.Listed) != 0;

    /// <summary>Gives <paramref name="item"/> a deadline <paramref name="timeout"/> from now.</summary>
    public static void Arm(TimedWorkItem item, TimeSpan timeout)
    {
        // The precise clock: Environment.TickCount64 may lag by a scheduler tick, which would let a call time out early.
        // A timeout too long to count in timestamps (centuries) never expires.
        long now = Stopwatch.GetTimestamp();
        double ticks = Math.Max(1, Math.Ceiling(timeout.TotalSeconds * Stopwatch.Frequency));
        long deadline = ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;

        // A full fence: the sweep must see this deadline if it unlisted the item before the read below.
        Interlocked.Exchange(ref item.Deadline, deadline);
        List(item);
    }

    /// <summary>Removes <paramref name="item"/>'s deadline; the item stays listed until the next sweep drops it.</summary>
    public static void Disarm(TimedWorkItem item) => Volatile.Write(ref item.Deadline, 0);

    /// <summary>Lists <paramref name="item"/> for the sweep unless it is listed already, and starts the timer if it is
    /// stopped.</summary>
    public static void List(TimedWorkItem item)
    {
        if (Volatile.Read(ref item.Listed) != 0 || Interlocked.CompareExchange(ref item.Listed, 1, 0) != 0)
        {
            return;
        }

        TimedWorkItem? head;
        do
        {
            head = Volatile.Read(ref s_head);
            item.SweepNext = head;
        }
        while (Interlocked.CompareExchange(ref s_head, item, head) != head);

        // After the push (a full fence): a sweep that stops the timer clears s_running before it looks at the list.
        if (Volatile.Read(ref s_running) == 0)
        {
            Start();
        }
    }

    private static void Start()
    {
        lock (s_gate)
        {
            if (s_running == 0)
            {
                s_running = 1;
                s_timer.Change(Resolution, Resolution);
            }
        }
    }

    /// <summary>Runs one sweep now (also what the timer runs).</summary>
    internal static void Sweep()
    {
        // Timer callbacks may overlap when one is slow; one sweep at a time is enough.
        if (Interlocked.Exchange(ref s_sweeping, 1) != 0)
        {
            return;
        }

        try
        {
            long now = Stopwatch.GetTimestamp();
            Exception? failure = null;
            TimedWorkItem? item = Interlocked.Exchange(ref s_head, null);
            while (item is not null)
            {
                TimedWorkItem? next = item.SweepNext;
                item.SweepNext = null;
                Interlocked.Exchange(ref item.Listed, 0);
                long deadline = Volatile.Read(ref item.Deadline);
                if (deadline != 0)
                {
                    if (deadline <= now)
                    {
                        try
                        {
                            item.OnDeadline();
                        }
                        catch (Exception exception)
                        {
                            // A bug: finish the sweep so no other call misses its deadline, then fail as any timer does.
                            failure ??= exception;
                        }
                    }
                    else
                    {
                        List(item);
                    }
                }

                item = next;
            }

            StopIfIdle();
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        finally
        {
            Volatile.Write(ref s_sweeping, 0);
        }
    }

    private static void StopIfIdle()
    {
        if (Volatile.Read(ref s_head) is not null)
        {
            return;
        }

        lock (s_gate)
        {
            // Cleared before the list is read (both full fences): an item listed after this read sees s_running == 0
            // and starts the timer again; one listed before it is seen here.
            Interlocked.Exchange(ref s_running, 0);
            if (Volatile.Read(ref s_head) is null)
            {
                s_timer.Change(Timeout.Infinite, Timeout.Infinite);
            }
            else
            {
                s_running = 1;
            }
        }
    }
}
