using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>
/// A network partition between two pairs of nodes, each pair in a network namespace of its own (two hosts on a bridge;
/// the partition takes side B's bridge port down): both sides keep serving, and after
/// the partition heals the views converge and every id is active on one node again. Needs root and iproute2 (CI has
/// both); anywhere else it fails and says why, rather than being skipped.
/// </summary>
public sealed class PartitionTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int Ids = 400;

    /// <summary>Each side's nodes listen on the side's address with these ports.</summary>
    private const int FirstPort = 7401;

    [Fact]
    public async Task Both_sides_serve_during_a_partition_and_converge_after_it_heals()
    {
        NamespaceNetwork network = CreateNetwork("p", 2);
        string a1 = $"{NamespaceNetwork.Address(1)}:{FirstPort}";
        string b1 = $"{NamespaceNetwork.Address(2)}:{FirstPort}";
        string[] seeds = [a1, b1];
        // State syncs every 2 s so that the sides find each other again soon after healing.
        var settings = new Dictionary<string, string> { ["Mesh:Membership:SyncInterval"] = "00:00:02" };
        NodeProcess[] nodes = await Cluster.StartAsync(
            new NodeSpec("a1", "counter") { Endpoint = a1, Seeds = seeds, NetworkNamespace = network.Namespace(1), Settings = settings },
            new NodeSpec("a2", "counter") { Endpoint = $"{NamespaceNetwork.Address(1)}:{FirstPort + 1}", Seeds = seeds, NetworkNamespace = network.Namespace(1), Settings = settings },
            new NodeSpec("b1", "counter") { Endpoint = b1, Seeds = seeds, NetworkNamespace = network.Namespace(2), Settings = settings },
            new NodeSpec("b2", "counter") { Endpoint = $"{NamespaceNetwork.Address(2)}:{FirstPort + 1}", Seeds = seeds, NetworkNamespace = network.Namespace(2), Settings = settings });
        NodeProcess[] sideA = [nodes[0], nodes[1]];
        NodeProcess[] sideB = [nodes[2], nodes[3]];
        string namesA = string.Join(',', sideA.Select(static n => n.Name));
        string namesB = string.Join(',', sideB.Select(static n => n.Name));
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);
        string?[] owners = await Cluster.WaitForSameOwnersAsync(nodes, "counter", Bounds.ViewConvergence);
        Cluster.Log($"4 nodes: {TestCluster.Summarize(owners)}");
        Assert.Equal(Ids, (await Cluster.CallsAsync(nodes[0], "counter", Ids, "split")).Ok);

        network.Disconnect(2);

        // Right away, before anyone notices: each side serves the ids its own nodes own.
        await AssertServesOwnAsync(sideA[0], namesA, sideA);
        await AssertServesOwnAsync(sideB[0], namesB, sideB);

        // Once each side has declared the other gone, it serves every id itself: the ids of the other side are
        // activated a second time here (the duplicates the healing must resolve).
        TimeSpan detectA = await Cluster.WaitForViewAsync(sideA, sideA, Bounds.FailureDetection, "side A sees only itself Up, the other side Down");
        TimeSpan detectB = await Cluster.WaitForViewAsync(sideB, sideB, Bounds.FailureDetection, "side B sees only itself Up, the other side Down");
        Cluster.Log($"partition detected: side A after {detectA.TotalSeconds:0.0} s, side B after {detectB.TotalSeconds:0.0} s more");
        foreach ((NodeProcess caller, NodeProcess[] side) in new[] { (sideA[0], sideA), (sideB[0], sideB) })
        {
            CallReport all = await Cluster.CallsAsync(caller, "counter", Ids, "split");
            Assert.Equal(Ids, all.Ok);
            Assert.All(all.Nodes.Keys, node => Assert.Contains(node, side.Select(static n => n.Name)));
        }

        int duplicated = (await TestCluster.DuplicatesAsync(nodes, "counter")).Count;
        Cluster.Log($"during the partition {duplicated} of {Ids} ids are active on both sides");

        network.Reconnect(2);
        TimeSpan converge = await Cluster.WaitForViewAsync(nodes, nodes, Bounds.HealConvergence, "after healing, all four see all four Up");
        owners = await Cluster.WaitForSameOwnersAsync(nodes, "counter", Bounds.ViewConvergence);
        TimeSpan resolve = await Cluster.WaitForNoDuplicatesAsync(nodes, "counter", Bounds.DuplicateResolution);
        Cluster.Log($"healed: views converged in {converge.TotalSeconds:0.0} s (bound {Bounds.HealConvergence.TotalSeconds:0} s), duplicates resolved {resolve.TotalSeconds:0.0} s later (bound {Bounds.DuplicateResolution.TotalSeconds:0} s): {TestCluster.Summarize(owners)}");

        CallReport fromA = await Cluster.CallsAsync(sideA[0], "counter", Ids, "split");
        CallReport fromB = await Cluster.CallsAsync(sideB[0], "counter", Ids, "split");
        Assert.Equal(Ids, fromA.Ok);
        Assert.Equal(0, fromA.Misrouted);
        Assert.Equal(fromA.Nodes.OrderBy(static p => p.Key), fromB.Nodes.OrderBy(static p => p.Key));
        Assert.Empty(await TestCluster.DuplicatesAsync(nodes, "counter"));
    }

    private async Task AssertServesOwnAsync(NodeProcess caller, string sideNames, NodeProcess[] side)
    {
        CallReport own = await Cluster.CallsAsync(caller, "counter", Ids, "split", onlyOwnedBy: sideNames);
        Assert.True(own.Ok > 0 && own.Errors == 0, $"{caller.Label} could not serve the ids its side owns: {own.Line}");
        Assert.All(own.Nodes.Keys, node => Assert.Contains(node, side.Select(static n => n.Name)));
    }
}
