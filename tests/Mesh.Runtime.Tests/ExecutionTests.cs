namespace Mesh.Runtime.Tests;

public sealed class ExecutionTests
{
    [Fact]
    public async Task Turns_run_one_at_a_time()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());

        int[] results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => actor.SlowAsync(5, default))).Within();

        Assert.Equal(1, node.Probe.MaxConcurrency);
        Assert.Equal(Enumerable.Range(1, 20), results.Order());
    }

    [Fact]
    public async Task Messages_from_one_caller_run_in_the_order_sent()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());

        // Calls and casts interleaved, none awaited before the next is sent; the first one waits for activation.
        var pending = new List<Task>();
        for (int i = 0; i < 200; i++)
        {
            pending.Add(i % 2 == 0 ? actor.AppendAsync(i).AsTask() : actor.AppendOneWayAsync(i).AsTask());
        }

        await Task.WhenAll(pending).Within();
        int[] seen = await actor.ReadAsync();

        Assert.Equal(Enumerable.Range(0, 200), seen);
    }

    [Fact]
    public async Task Reentrant_implementations_interleave_turns()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IReentrantActor actor = node.Mesh.GetActor<IReentrantActor>(TestNode.NewKey());

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => actor.SlowAsync(200))).Within();

        Assert.True(node.Probe.MaxConcurrency > 1, $"max concurrency {node.Probe.MaxConcurrency}");
    }

    [Fact]
    public async Task An_exception_reaches_the_caller_as_ActorInvocationException_and_the_actor_keeps_serving()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(key);
        string instance = await actor.InstanceAsync();

        ActorInvocationException error = await Assert.ThrowsAsync<ActorInvocationException>(async () => await actor.ThrowAsync("boom"));

        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteExceptionType);
        Assert.Equal("boom", error.RemoteMessage);
        Assert.Contains(nameof(ProbeActor.ThrowAsync), error.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal("ThrowAsync", error.Method);
        Assert.Equal(key, error.Actor.Key);
        Assert.Equal(instance, await actor.InstanceAsync());
        Assert.Equal(1, await actor.IncrementAsync());
    }

    [Fact]
    public async Task One_way_messages_never_throw_the_actors_exception()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(key);

        await actor.ThrowOneWayAsync("ignored");
        await node.Probe.WhenRecorded("one-way-throw:" + key).Within();

        Assert.Equal(1, await actor.IncrementAsync());
    }

    [Fact]
    public async Task A_call_that_exceeds_the_default_timeout_throws_MeshTimeoutException_and_cancels_the_actors_token()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:DefaultCallTimeout"] = "00:00:00.300" });
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        string gate = TestNode.NewKey();

        MeshTimeoutException error = await Assert.ThrowsAsync<MeshTimeoutException>(async () => await actor.WaitGateAsync(gate, default).Within());

        Assert.Equal(TimeSpan.FromMilliseconds(300), error.Timeout);
        await node.Probe.WhenRecorded("cancelled:" + gate).Within();
        Assert.Equal(1, await actor.IncrementAsync());
        Assert.Equal(1, node.Runtime.Metrics.Timeouts);
    }

    [Fact]
    public async Task A_timeout_answers_the_caller_even_when_a_callback_on_the_actors_token_throws()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:DefaultCallTimeout"] = "00:00:00.300" });
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        string gate = TestNode.NewKey();

        await Assert.ThrowsAsync<MeshTimeoutException>(async () => await actor.HoldWithThrowingCallbackAsync(gate, default).Within());

        // The node (and the process: the callback threw on the deadline sweep's thread) keeps serving.
        node.Probe.Open(gate);
        await node.Probe.WhenRecorded("left:" + gate).Within();
        Assert.Equal(2, await actor.IncrementAsync());
        Assert.Equal(1, node.Runtime.Metrics.Timeouts);
    }

    [Fact]
    public async Task A_call_that_times_out_while_queued_never_runs()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:DefaultCallTimeout"] = "00:00:00.300" });
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        string blocker = TestNode.NewKey();
        string queued = TestNode.NewKey();
        await actor.IncrementAsync();

        // The blocking turn ignores cancellation, so it outlives the queued call's timeout.
        Task<int> blocking = actor.HoldAsync(blocker).AsTask();
        await node.Probe.WhenRecorded("entered:" + blocker).Within();
        Task<int> waiting = actor.WaitGateAsync(queued, default);
        await Assert.ThrowsAsync<MeshTimeoutException>(() => waiting.Within());
        await Assert.ThrowsAsync<MeshTimeoutException>(() => blocking.Within());

        // The mailbox moves on once the blocked turn ends; the timed-out queued call is skipped, not run late.
        node.Probe.Open(blocker);
        await node.Probe.WhenRecorded("left:" + blocker).Within();
        Assert.Equal(3, await actor.IncrementAsync());
        Assert.DoesNotContain("entered:" + queued, node.Probe.Events);
    }

    [Fact]
    public async Task The_callers_cancellation_token_cancels_the_call()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        string gate = TestNode.NewKey();
        using var cancel = new CancellationTokenSource();

        Task<int> call = actor.WaitGateAsync(gate, cancel.Token);
        await node.Probe.WhenRecorded("entered:" + gate).Within();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
        await node.Probe.WhenRecorded("cancelled:" + gate).Within();
        Assert.Equal(1, await actor.IncrementAsync());
    }

    [Fact]
    public async Task A_full_mailbox_refuses_calls_at_once_and_the_accepted_ones_complete()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:MailboxCapacity"] = "3" });
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        string gate = TestNode.NewKey();
        await actor.IncrementAsync();
        Task<int> blocking = actor.WaitGateAsync(gate, default);
        await node.Probe.WhenRecorded("entered:" + gate).Within();

        var accepted = new List<Task<int>>();
        MailboxFullException? refused = null;
        for (int i = 0; i < 10 && refused is null; i++)
        {
            ValueTask<int> call = actor.IncrementAsync();
            if (call.IsFaulted)
            {
                refused = await Assert.ThrowsAsync<MailboxFullException>(async () => await call);
            }
            else
            {
                accepted.Add(call.AsTask());
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(3, refused.Capacity);
        Assert.Equal(3, accepted.Count);
        node.Probe.Open(gate);
        await blocking.Within();
        int[] results = await Task.WhenAll(accepted).Within();
        Assert.Equal([3, 4, 5], results);
    }
}
