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
