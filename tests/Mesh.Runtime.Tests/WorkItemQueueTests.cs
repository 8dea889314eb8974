namespace Mesh.Runtime.Tests;

public sealed class WorkItemQueueTests
{
    [Fact]
    public void Items_come_out_in_the_order_they_went_in_across_batches()
    {
        var queue = new WorkItemQueue();
        Assert.True(queue.IsEmpty);
        Assert.False(queue.TryDequeue(out _));

        queue.Enqueue(new Numbered(0, 1));
        queue.Enqueue(new Numbered(0, 2));
        Assert.True(queue.TryDequeue(out WorkItem? first));

        // Queued while the consumer holds a batch: comes after the rest of that batch.
        queue.Enqueue(new Numbered(0, 3));
        Assert.False(queue.IsEmpty);
        Assert.True(queue.TryDequeue(out WorkItem? second));
        Assert.True(queue.TryDequeue(out WorkItem? third));
        Assert.False(queue.TryDequeue(out _));
        Assert.True(queue.IsEmpty);

        Assert.Equal([1, 2, 3], new[] { ((Numbered)first).Sequence, ((Numbered)second).Sequence, ((Numbered)third).Sequence });
        Assert.Null(first.Next);
    }

    [Fact]
    public async Task Concurrent_producers_lose_nothing_and_each_keeps_its_order()
    {
        const int Producers = 4;
        const int PerProducer = 20_000;
        var queue = new WorkItemQueue();
        var box = new StrongBox(queue);
        using var start = new Barrier(Producers + 1);
        Task[] producers = new Task[Producers];
        for (int p = 0; p < Producers; p++)
        {
            int producer = p;
            producers[p] = Task.Factory.StartNew(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                for (int i = 1; i <= PerProducer; i++)
                {
                    box.Enqueue(new Numbered(producer, i));
                }
            }, TaskCreationOptions.LongRunning);
        }

        start.SignalAndWait(TimeSpan.FromSeconds(10));
        int[] last = new int[Producers];
        int received = 0;
        long deadline = Environment.TickCount64 + 30_000;
        while (received < Producers * PerProducer && Environment.TickCount64 < deadline)
        {
            if (!box.TryDequeue(out WorkItem? item))
            {
                Thread.Yield();
                continue;
            }

            var numbered = (Numbered)item;
            Assert.Equal(last[numbered.Producer] + 1, numbered.Sequence);
            last[numbered.Producer] = numbered.Sequence;
            received++;
        }

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Producers * PerProducer, received);
        Assert.False(box.TryDequeue(out _));
        Assert.All(last, static value => Assert.Equal(PerProducer, value));
    }

    /// <summary>Holds the queue in a field of a class, as <see cref="Activation"/> does, so every thread works on the same struct.</summary>
    private sealed class StrongBox(WorkItemQueue queue)
    {
        private WorkItemQueue _queue = queue;

        public void Enqueue(WorkItem item) => _queue.Enqueue(item);

        public bool TryDequeue([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem? item) => _queue.TryDequeue(out item);
    }

    private sealed class Numbered(int producer, int sequence) : WorkItem
    {
        public int Producer { get; } = producer;

        public int Sequence { get; } = sequence;

        public override bool Execute(Activation activation) => true;

        public override void Fail(Exception exception)
        {
        }

        public override void Reroute(MeshRuntime runtime)
        {
        }
    }
}
