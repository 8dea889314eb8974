using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>Three nodes with different capabilities, as in eigr/mesh's multi-node example: every node reaches every
/// actor on its owner, and a capability served by two nodes has its ids spread evenly between them.</summary>
public sealed class PlacementTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int GameIds = 1000;
    private const int CounterIds = 1000;
    private const int ChatIds = 200;


    [Fact]
    public async Task Calls_from_every_node_reach_the_owner_and_ids_spread_evenly()
    {
        NodeProcess[] nodes = await Cluster.StartAsync(
            new NodeSpec("node1", "game", "counter"),
            new NodeSpec("node2", "chat"),
            new NodeSpec("node3", "game", "counter"));
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);
        foreach (string capability in new[] { "game", "counter", "chat" })
        {
            string?[] owners = await Cluster.WaitForSameOwnersAsync(nodes, capability, Bounds.ViewConvergence);
            Cluster.Log($"shards of '{capability}': {TestCluster.Summarize(owners)}");
        }

        // Each node calls every id once: the answers come from the same owner whoever calls, and the state of each
        // actor (its count) shows one activation per id across the cluster, the third caller seeing 3.
        var spread = new Dictionary<string, IReadOnlyDictionary<string, int>>();
        for (int round = 0; round < nodes.Length; round++)
        {
            NodeProcess caller = nodes[round];
            foreach ((string capability, int count, string prefix) in new[] { ("game", GameIds, "player"), ("counter", CounterIds, "counter"), ("chat", ChatIds, "room") })
            {
                CallReport report = await Cluster.CallsAsync(caller, capability, count, prefix);
                Assert.True(report.Ok == count, $"{caller.Label}: {report.Ok} of {count} '{capability}' calls succeeded: {report.Line}");
                Assert.Equal(0, report.Misrouted);
                Assert.Equal(round + 1, report.Min);
                Assert.Equal(round + 1, report.Max);
                if (spread.TryGetValue(capability, out IReadOnlyDictionary<string, int>? first))
                {
                    Assert.Equal(first.OrderBy(static p => p.Key), report.Nodes.OrderBy(static p => p.Key));
                }
                else
                {
                    spread[capability] = report.Nodes;
                }
            }
        }

        // chat lives on node2 only, called from nodes that do not have it.
        Assert.Equal([nodes[1].Name], spread["chat"].Keys);
        foreach (string capability in new[] { "game", "counter" })
        {
            IReadOnlyDictionary<string, int> counts = spread[capability];
            Assert.Equal(new[] { nodes[0].Name, nodes[2].Name }.Order(), counts.Keys.Order());
            int total = counts.Values.Sum();
            foreach ((string node, int count) in counts)
            {
                double share = (double)count / total;
                Cluster.Log($"'{capability}': {node} owns {count} of {total} ids ({share:P1}; even is 50 %, tolerance ±{Bounds.SpreadTolerance:P0})");
                Assert.InRange(share, 0.5 - Bounds.SpreadTolerance, 0.5 + Bounds.SpreadTolerance);
            }
        }
    }
}
