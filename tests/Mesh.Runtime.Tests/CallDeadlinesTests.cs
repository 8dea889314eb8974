using System.Diagnostics;
using Mesh.Runtime;

namespace Mesh.Runtime.Tests;

/// <summary>The sweep that times calls out (<see cref="CallDeadlines"/>): a deadline fires once, not early and at most
/// about one resolution late; a disarmed or re-armed item is not fired for a deadline it no longer has; nothing is lost
/// when many threads arm and disarm at once; the timer stops when nothing is listed.</summary>
[Collection(nameof(CallDeadlinesTests))]
public sealed class CallDeadlinesTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_armed_item_fires_once_after_its_deadline_and_not_before()
    {
        var item = new ProbeItem();
        long armedAt = Stopwatch.GetTimestamp();
        CallDeadlines.Arm(item, TimeSpan.FromMilliseconds(200));

        await item.Fired.Task.WaitAsync(StepTimeout);
        TimeSpan elapsed = Stopwatch.GetElapsedTime(armedAt);

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(200), $"fired after {elapsed.TotalMilliseconds:F1} ms");
        await WaitUntilAsync(() => !CallDeadlines.IsListed(item));
        Assert.Equal(1, item.FiredCount);
    }

    [Fact]
    public async Task A_disarmed_item_never_fires_and_leaves_the_list()
    {
        var disarmed = new ProbeItem();
        var witness = new ProbeItem();
        CallDeadlines.Arm(disarmed, TimeSpan.FromMilliseconds(50));
        CallDeadlines.Disarm(disarmed);
        CallDeadlines.Arm(witness, TimeSpan.FromMilliseconds(100));

        // The witness fires after the disarmed item's deadline has passed and been swept.
        await witness.Fired.Task.WaitAsync(StepTimeout);
        await WaitUntilAsync(() => !CallDeadlines.IsListed(disarmed));
        Assert.Equal(0, disarmed.FiredCount);
    }

    [Fact]
    public async Task Re_arming_a_listed_item_keeps_one_entry_and_the_later_deadline()
    {
        var item = new ProbeItem();
        CallDeadlines.Arm(item, TimeSpan.FromMilliseconds(30));
        CallDeadlines.Disarm(item);

        // The next use of a pooled item: still listed from the first, now with a later deadline.
        long armedAt = Stopwatch.GetTimestamp();
        CallDeadlines.Arm(item, TimeSpan.FromMilliseconds(300));
        await item.Fired.Task.WaitAsync(StepTimeout);

        Assert.True(Stopwatch.GetElapsedTime(armedAt) >= TimeSpan.FromMilliseconds(300));
        await WaitUntilAsync(() => !CallDeadlines.IsListed(item));
        Assert.Equal(1, item.FiredCount);
    }

    [Fact]
    public async Task Threads_arming_and_disarming_at_once_lose_no_deadline()
    {
        const int Threads = 4;
        const int ItemsPerThread = 200;
        var items = new ProbeItem[Threads * ItemsPerThread];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = new ProbeItem();
        }

        // Every item is armed and disarmed many times while sweeps run, then left armed (even items) or disarmed (odd).
        var workers = new Task[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int first = t * ItemsPerThread;
            workers[t] = Task.Run(() =>
            {
                for (int round = 0; round < 50; round++)
                {
                    for (int i = first; i < first + ItemsPerThread; i++)
                    {
                        CallDeadlines.Arm(items[i], TimeSpan.FromMinutes(1));
                        CallDeadlines.Disarm(items[i]);
                    }
                }

                for (int i = first; i < first + ItemsPerThread; i++)
                {
                    if (i % 2 == 0)
                    {
                        CallDeadlines.Arm(items[i], TimeSpan.FromMilliseconds(100));
                    }
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(StepTimeout);
        for (int i = 0; i < items.Length; i += 2)
        {
            await items[i].Fired.Task.WaitAsync(StepTimeout);
        }

        await WaitUntilAsync(() => items.All(static item => !CallDeadlines.IsListed(item)));
        for (int i = 0; i < items.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? 1 : 0, items[i].FiredCount);
        }
    }

    [Fact]
    public async Task A_timeout_too_long_to_count_never_expires()
    {
        var forever = new ProbeItem();
        var witness = new ProbeItem();
        CallDeadlines.Arm(forever, TimeSpan.MaxValue);
        CallDeadlines.Arm(witness, TimeSpan.FromMilliseconds(50));

        await witness.Fired.Task.WaitAsync(StepTimeout);
        Assert.Equal(long.MaxValue, Volatile.Read(ref forever.Deadline));
        Assert.Equal(0, forever.FiredCount);
        CallDeadlines.Disarm(forever);
    }

    [Fact]
    public async Task The_timer_stops_when_nothing_is_listed_and_starts_again_for_the_next_arm()
    {
        var first = new ProbeItem();
        CallDeadlines.Arm(first, TimeSpan.FromMilliseconds(20));
        await first.Fired.Task.WaitAsync(StepTimeout);

        // Other tests of this assembly may list calls of their own meanwhile; this collection runs alone.
        await WaitUntilAsync(static () => !CallDeadlines.IsRunning);

        var second = new ProbeItem();
        CallDeadlines.Arm(second, TimeSpan.FromMilliseconds(20));
        Assert.True(CallDeadlines.IsRunning);
        await second.Fired.Task.WaitAsync(StepTimeout);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < StepTimeout, "the condition did not hold in time");
            await Task.Delay(CallDeadlines.Resolution);
        }
    }

    /// <summary>A timed item that records its deadlines, re-listing itself when a sweep finds it early (as calls do).</summary>
    private sealed class ProbeItem : TimedWorkItem
    {
        private int _fired;

        public TaskCompletionSource Fired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int FiredCount => Volatile.Read(ref _fired);

        public override bool Execute(Activation activation) => throw new NotSupportedException();

        public override void Fail(Exception exception) => throw new NotSupportedException();

        public override void Reroute(MeshRuntime runtime) => throw new NotSupportedException();

        internal override void OnDeadline()
        {
            long deadline = Volatile.Read(ref Deadline);
            if (deadline == 0)
            {
                return;
            }

            if (deadline > Stopwatch.GetTimestamp())
            {
                CallDeadlines.List(this);
                return;
            }

            CallDeadlines.Disarm(this);
            Interlocked.Increment(ref _fired);
            Fired.TrySetResult();
        }
    }
}

/// <summary>Runs <see cref="CallDeadlinesTests"/> alone: they look at the process-wide sweep's timer.</summary>
[CollectionDefinition(nameof(CallDeadlinesTests), DisableParallelization = true)]
public sealed class CallDeadlinesCollection;
