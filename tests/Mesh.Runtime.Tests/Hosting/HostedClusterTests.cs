using System.Collections.Concurrent;

namespace Mesh.Runtime.Tests.Hosting;

/// <summary>Two real hosts in this process that listen on loopback (the configured transport, mutual TLS with a
/// development CA of the test's own) and find each other through a seed: the wiring of runtime, connections and
/// membership that AddMesh does when Mesh:Endpoint is set.</summary>
public sealed class HostedClusterTests : IDisposable
{
    private readonly string _certificates = Directory.CreateTempSubdirectory("mesh-hosted-").FullName;

    [Fact]
    public async Task A_call_from_a_node_without_the_capability_runs_on_the_node_that_has_it_and_a_graceful_leave_is_seen_at_once()
    {
        await using TestNode caller = await TestNode.StartAsync([], Configuration("caller", seed: null));
        string seed = caller.Mesh.Self.Endpoint!;
        await using TestNode server = await TestNode.StartAsync(["probe"], Configuration("server", seed));

        await LoopbackNodes.WaitUntilAsync(() => caller.Mesh.NodesFor("probe").Count == 1, "the caller to see the server's capability");
        Assert.Equal("server", caller.Mesh.OwnerOf("probe", "p1")!.Name);

        IProbeActor probe = caller.Mesh.GetActor<IProbeActor>("p1");
        Assert.Equal(1, await probe.IncrementAsync());
        Assert.Equal(3, await probe.IncrementAsync(2));
        Assert.Equal(0, caller.Runtime.ActivationCount);
        Assert.Equal(1, server.Runtime.ActivationCount);

        var left = new TaskCompletionSource<MembershipChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var seenChanges = new ConcurrentQueue<string>();
        caller.Mesh.MembershipChanged += (_, change) =>
        {
            seenChanges.Enqueue($"{change.Kind} {change.Node.Name} {change.Node.Status}");
            if (change.Kind == MembershipChangeKind.Left && change.Node.Name == "server")
            {
                left.TrySetResult(change);
            }
        };
        await server.StopAsync();

        if (await Task.WhenAny(left.Task, Task.Delay(TimeSpan.FromSeconds(10))) != left.Task)
        {
            Assert.Fail($"The caller did not see the server leave within 10 s; it saw: [{string.Join(", ", seenChanges)}]");
        }

        MembershipChangedEventArgs seen = await left.Task;

        Assert.Equal(MeshNodeStatus.Left, seen.Node.Status);
        Assert.Empty(caller.Mesh.NodesFor("probe"));
        await Assert.ThrowsAsync<CapabilityUnavailableException>(async () => await probe.IncrementAsync());
    }

    [Fact]
    public async Task A_capability_registered_at_run_time_reaches_the_other_node_and_its_calls_follow()
    {
        await using TestNode first = await TestNode.StartAsync(["probe"], Configuration("first", seed: null));
        await using TestNode second = await TestNode.StartAsync(["probe"], Configuration("second", first.Mesh.Self.Endpoint));
        await LoopbackNodes.WaitUntilAsync(() => first.Mesh.NodesFor("probe").Count == 2 && second.Mesh.NodesFor("probe").Count == 2, "both nodes to serve 'probe' in both views");
        Assert.Empty(first.Mesh.NodesFor("other"));

        await second.Mesh.RegisterCapabilitiesAsync(["other"]);

        await LoopbackNodes.WaitUntilAsync(() => first.Mesh.NodesFor("other").Count == 1, "the first node to learn that the second serves 'other'");
        Assert.Equal("second", first.Mesh.NodesFor("other")[0].Name);
        Assert.Contains("other", first.Mesh.AllCapabilities());
        IOtherActor other = first.Mesh.GetActor<IOtherActor>("o1");
        await other.PingAsync();
        Assert.Equal(0, first.Runtime.ActivationCount);
        Assert.Equal(1, second.Runtime.ActivationCount);
    }

    [Fact]
    public async Task A_node_of_another_cluster_is_refused_with_a_message_that_names_the_setting()
    {
        await using TestNode first = await TestNode.StartAsync(["probe"], Configuration("first", seed: null));
        Dictionary<string, string?> other = Configuration("stranger", first.Mesh.Self.Endpoint);
        other["Mesh:ClusterName"] = "another";

        Exception refused = await Assert.ThrowsAnyAsync<Exception>(() => TestNode.StartAsync(["probe"], other));
        Assert.Contains("ClusterName", refused.ToString(), StringComparison.Ordinal);
        Assert.Single(first.Mesh.Members, m => m.Status == MeshNodeStatus.Up);
    }

    public void Dispose() => Directory.Delete(_certificates, recursive: true);

    private Dictionary<string, string?> Configuration(string name, string? seed) => LoopbackNodes.Configuration(_certificates, name, seed);
}
