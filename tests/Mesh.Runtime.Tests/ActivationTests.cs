namespace Mesh.Runtime.Tests;

public sealed class ActivationTests
{
    [Fact]
    public async Task First_call_activates_the_actor_and_OnActivateAsync_runs_before_any_message()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();

        Assert.Equal(0, node.Probe.Count("created:" + key));
        int value = await node.Mesh.GetActor<IProbeActor>(key).IncrementAsync(5);

        Assert.Equal(5, value);
        Assert.Equal(1, node.Probe.Count("created:" + key));
        string[] events = [.. node.Probe.Events.Where(e => e.EndsWith(key, StringComparison.Ordinal))];
        Assert.Equal(["activate:" + key, "call:" + key], events);
    }

    [Fact]
    public async Task A_thousand_concurrent_first_calls_to_one_id_create_exactly_one_instance()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();

        // Separate proxies, as separate callers would have, all started before any completes.
        using var start = new ManualResetEventSlim();
        Task<int>[] calls = [.. Enumerable.Range(0, 1000).Select(_ => Task.Run(async () =>
        {
            start.Wait(TimeSpan.FromSeconds(10));
            return await node.Mesh.GetActor<IProbeActor>(key).IncrementAsync();
        }))];
        start.Set();
        int[] results = await Task.WhenAll(calls).Within();

        Assert.Equal(1, node.Probe.Count("created:" + key));
        Assert.Equal(Enumerable.Range(1, 1000), results.Order());
    }

    [Fact]
    public async Task Idle_actors_are_deactivated_and_the_next_call_activates_a_new_instance()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:IdleTimeout"] = "00:00:00.200" });
        string key = TestNode.NewKey();
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(key);
        string first = await actor.InstanceAsync();

        await node.Probe.WhenRecorded("deactivate:" + key + ":Idle").Within();
        string second = await actor.InstanceAsync();

        Assert.NotEqual(first, second);
        Assert.Equal(2, node.Probe.Count("created:" + key));
    }

    [Fact]
    public async Task DeactivateOnIdle_deactivates_after_the_current_turn()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(key);
        string first = await actor.InstanceAsync();

        await actor.DeactivateAsync();
        await node.Probe.WhenRecorded("deactivate:" + key + ":Requested").Within();
        string second = await actor.InstanceAsync();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Calls_queued_behind_a_deactivation_are_served_by_the_next_activation()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        string key = TestNode.NewKey();
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(key);
        await actor.IncrementAsync();

        // Deactivation is requested inside a turn; the calls sent right after it must not be lost.
        ValueTask deactivate = actor.DeactivateAsync();
        Task<int>[] after = [.. Enumerable.Range(0, 50).Select(_ => actor.IncrementAsync().AsTask())];
        await deactivate;
        int[] results = await Task.WhenAll(after).Within();

        Assert.Equal(50, results.Length);
        Assert.All(results, r => Assert.InRange(r, 1, 51));
    }

    [Fact]
    public async Task Host_shutdown_deactivates_every_actor_gracefully()
    {
        TestNode node = await TestNode.StartAsync(["probe"]);
        MeshRuntime runtime = node.Runtime;
        string[] keys = [TestNode.NewKey(), TestNode.NewKey(), TestNode.NewKey()];
        foreach (string key in keys)
        {
            await node.Mesh.GetActor<IProbeActor>(key).IncrementAsync();
        }

        await node.DisposeAsync();

        foreach (string key in keys)
        {
            Assert.Contains("deactivate:" + key + ":Shutdown", node.Probe.Events);
        }

        Assert.Equal(0, runtime.ActivationCount);
    }

    [Fact]
    public async Task A_stopped_node_refuses_new_calls_with_a_clear_error()
    {
        TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor actor = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        await node.DisposeAsync();

        MeshException error = await Assert.ThrowsAsync<MeshException>(async () => await actor.IncrementAsync());
        Assert.Contains("shutting down", error.Message, StringComparison.Ordinal);
    }
}

public sealed class LazyActivationStateTests
{
    [Fact]
    public async Task A_token_and_a_gone_task_first_asked_for_after_the_activation_went_are_already_cancelled_and_complete()
    {
        // OtherActor has no lifecycle methods, so nothing asks for its token or its gone task while it lives: both are
        // made only when asked for, which here is after it deactivated.
        await using TestNode node = await TestNode.StartAsync(["other"]);
        string key = TestNode.NewKey();
        Assert.Equal(42, await node.Mesh.GetActor<IOtherActor>(key).PingAsync());
        Activation activation = node.Runtime.GetActivation(new ActorId("other", nameof(IOtherActor), key));

        await activation.DeactivateAsync(DeactivationReason.Requested);

        Assert.True(activation.IsGone);
        Assert.True(activation.DeactivatingToken.IsCancellationRequested);
        Assert.True(activation.Gone.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task A_token_and_a_gone_task_asked_for_while_the_actor_lives_are_cancelled_and_completed_when_it_goes()
    {
        await using TestNode node = await TestNode.StartAsync(["other"]);
        string key = TestNode.NewKey();
        Assert.Equal(42, await node.Mesh.GetActor<IOtherActor>(key).PingAsync());
        Activation activation = node.Runtime.GetActivation(new ActorId("other", nameof(IOtherActor), key));
        CancellationToken token = activation.DeactivatingToken;
        Task gone = activation.Gone;
        Assert.False(token.IsCancellationRequested);
        Assert.False(gone.IsCompleted);

        await activation.DeactivateAsync(DeactivationReason.Requested);

        Assert.True(token.IsCancellationRequested);
        await gone.Within();
        Assert.Same(gone, activation.Gone);
    }

    [Fact]
    public async Task Readers_racing_the_deactivation_always_see_the_token_cancelled_and_the_task_completed()
    {
        // Threads ask for the token and the task while another deactivates: whichever made each one, it ends
        // cancelled and completed (a lost race would leave a token never cancelled or a task never completed).
        await using TestNode node = await TestNode.StartAsync(["other"]);
        for (int round = 0; round < 200; round++)
        {
            string key = TestNode.NewKey();
            await node.Mesh.GetActor<IOtherActor>(key).PingAsync();
            Activation activation = node.Runtime.GetActivation(new ActorId("other", nameof(IOtherActor), key));
            using var start = new Barrier(3);
            Task<CancellationToken> token = Task.Run(() => { start.SignalAndWait(); return activation.DeactivatingToken; });
            Task? goneTask = null;
            Task gone = Task.Run(() => { start.SignalAndWait(); goneTask = activation.Gone; });
            Task deactivate = Task.Run(async () => { start.SignalAndWait(); await activation.DeactivateAsync(DeactivationReason.Requested); });

            await deactivate.Within();
            Assert.True((await token.Within()).IsCancellationRequested, $"round {round}: the token was not cancelled");
            await gone.Within();
            await goneTask!.Within();
        }
    }
}
