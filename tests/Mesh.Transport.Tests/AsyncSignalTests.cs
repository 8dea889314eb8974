using Mesh.Transport.Framing;

namespace Mesh.Transport.Tests;

/// <summary>The write loop's wake-up (<see cref="AsyncSignal"/>): no set is lost, sets merge, and a setter never runs the
/// waiter's continuation itself (a sender must not be taken over by the write loop).</summary>
public sealed class AsyncSignalTests
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_set_before_the_wait_completes_the_wait_at_once_and_only_once()
    {
        var signal = new AsyncSignal();
        signal.Signal();
        signal.Signal();

        Assert.True(signal.WaitAsync().IsCompleted);
        ValueTask second = signal.WaitAsync();
        Assert.False(second.IsCompleted);

        signal.Signal();
        await second.AsTask().WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task The_parked_waiter_resumes_on_a_pool_thread_never_on_the_setters()
    {
        var signal = new AsyncSignal();
        for (int round = 0; round < 100; round++)
        {
            var resumedOn = new TaskCompletionSource<(int Thread, bool Pool)>(TaskCreationOptions.RunContinuationsAsynchronously);
            ValueTask wait = signal.WaitAsync();
            Assert.False(wait.IsCompleted);
            Task waiter = ResumeAsync(wait, resumedOn);

            int setter = -1;
            var thread = new Thread(() =>
            {
                setter = Environment.CurrentManagedThreadId;
                signal.Signal();
            });
            thread.Start();
            Assert.True(thread.Join(StepTimeout));

            (int resumed, bool pool) = await resumedOn.Task.WaitAsync(StepTimeout);
            Assert.NotEqual(setter, resumed);
            Assert.True(pool);
            await waiter.WaitAsync(StepTimeout);
        }
    }

    [Fact]
    public async Task Concurrent_setters_never_lose_the_last_set()
    {
        var signal = new AsyncSignal();
        int produced = 0;
        int consumed = 0;
        const int Items = 20_000;
        Task consumer = Task.Run(async () =>
        {
            // Consume what is visible after each wake-up; a lost wake-up would leave items behind and hang here.
            while (Volatile.Read(ref consumed) < Items)
            {
                await signal.WaitAsync();
                Volatile.Write(ref consumed, Volatile.Read(ref produced));
            }
        });

        Task[] producers = new Task[4];
        for (int p = 0; p < producers.Length; p++)
        {
            producers[p] = Task.Run(() =>
            {
                for (int i = 0; i < Items / 4; i++)
                {
                    Interlocked.Increment(ref produced);
                    signal.Signal();
                }
            });
        }

        await Task.WhenAll(producers).WaitAsync(StepTimeout);
        await consumer.WaitAsync(StepTimeout);
        Assert.Equal(Items, Volatile.Read(ref consumed));
    }

    private static async Task ResumeAsync(ValueTask wait, TaskCompletionSource<(int Thread, bool Pool)> resumedOn)
    {
        await wait.ConfigureAwait(false);
        resumedOn.SetResult((Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread));
    }
}
