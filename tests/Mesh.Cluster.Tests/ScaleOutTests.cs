using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>A fourth node joins three: rendezvous hashing moves only the shards the newcomer wins, about a quarter, and
/// the nodes that lost them stop those activations once views agree.</summary>
public sealed class ScaleOutTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int Ids = 600;


    [Fact]
    public async Task Adding_a_fourth_node_moves_about_a_quarter_of_the_shards_and_leaves_no_duplicate_activation()
    {
        NodeProcess[] three = await StartCountersAsync(3);
        string?[] before = await Cluster.WaitForSameOwnersAsync(three, "counter", Bounds.Command);
        CallReport warm = await Cluster.CallsAsync(three[0], "counter", Ids, "moved");
        Assert.Equal(Ids, warm.Ok);

        NodeProcess fourth = (await Cluster.StartAsync(new NodeSpec("node4", "counter")))[0];
        NodeProcess[] four = [.. three, fourth];
        TimeSpan join = await Cluster.WaitForViewAsync(four, four, Bounds.ViewConvergence);
        string?[] after = await Cluster.WaitForSameOwnersAsync(four, "counter", Bounds.ViewConvergence);
        Cluster.Log($"4 nodes, views agreed {join.TotalSeconds:0.0} s after node4 was READY: {TestCluster.Summarize(after)}");

        int moved = 0;
        int movedElsewhere = 0;
        for (int shard = 0; shard < before.Length; shard++)
        {
            if (before[shard] != after[shard])
            {
                moved++;
                movedElsewhere += after[shard] == fourth.Name ? 0 : 1;
            }
        }

        double fraction = (double)moved / before.Length;
        Cluster.Log($"moved {moved} of {before.Length} shards ({fraction:P1}; expected 25 % ± {Bounds.MovedFractionTolerance:P0}), {movedElsewhere} of them to a node other than node4");
        Assert.Equal(0, movedElsewhere);
        Assert.InRange(fraction, 0.25 - Bounds.MovedFractionTolerance, 0.25 + Bounds.MovedFractionTolerance);

        // Calls after the views agree reach the new owners (node4 for the moved ids) ...
        CallReport again = await Cluster.CallsAsync(three[1], "counter", Ids, "moved");
        Assert.Equal(Ids, again.Ok);
        Assert.Equal(0, again.Misrouted);
        Assert.True(again.Nodes.GetValueOrDefault(fourth.Name) > 0, $"node4 answered none of {Ids} ids: {again.Line}");

        // ... and an id never stays active on its old owner and its new one beyond the bound.
        TimeSpan duplicates = await Cluster.WaitForNoDuplicatesAsync(four, "counter", Bounds.DuplicateResolution);
        Cluster.Log($"no duplicate activation {duplicates.TotalSeconds:0.00} s after the calls (bound {Bounds.DuplicateResolution.TotalSeconds:0} s)");
    }
}
