using System.Diagnostics;
using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>Nodes leaving gracefully and coming back, and a node without the cluster's credentials.</summary>
public sealed class MembershipTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int Ids = 300;


    [Fact]
    public async Task A_node_that_leaves_is_listed_as_left_and_serves_again_after_rejoining()
    {
        NodeProcess[] nodes = await StartCountersAsync(3);
        CallReport before = await Cluster.CallsAsync(nodes[0], "counter", Ids, "stay");
        Assert.Equal(Ids, before.Ok);
        string leaver = nodes[2].Name;
        string endpoint = nodes[2].Endpoint;

        string left = await nodes[2].SendExpectingAsync("leave", "LEFT", Bounds.Command);
        Assert.True(await nodes[2].WaitForExitAsync(Bounds.Command), "node3 did not exit after 'leave'.");
        Assert.Equal(0, nodes[2].ExitCode);
        Cluster.Log($"node3 left gracefully ({left}), exit code 0");

        NodeProcess[] survivors = [nodes[0], nodes[1]];
        // Left, or already forgotten; never Down or Suspect, which would mean the failure detector noticed a silent node
        // instead of the survivors hearing the leave.
        await Cluster.WaitUntilAsync($"node1 and node2 list {leaver} as Left or no longer at all", Bounds.LeaveVisible, async () =>
        {
            Dictionary<string, List<Member>> views = await Cluster.ViewsAsync(survivors);
            Assert.False(
                views.Values.Any(v => v.Exists(m => m.Name == leaver && m.Status is "Down" or "Suspect")),
                $"A survivor took the leave for a failure: {TestCluster.Describe(views)}");
            bool done = views.Values.All(v => v.Find(m => m.Name == leaver) is null or { Status: "Left" });
            return (done, TestCluster.Describe(views));
        });
        await Cluster.WaitForSameOwnersAsync(survivors, "counter", Bounds.ViewConvergence);
        CallReport without = await Cluster.CallsAsync(nodes[0], "counter", Ids, "stay");
        Assert.Equal(Ids, without.Ok);
        Assert.DoesNotContain(leaver, without.Nodes.Keys);

        NodeProcess back = (await Cluster.StartAsync(new NodeSpec("node3", "counter") { Endpoint = endpoint }))[0];
        NodeProcess[] again = [nodes[0], nodes[1], back];
        TimeSpan rejoin = await Cluster.WaitForViewAsync(again, again, Bounds.ViewConvergence);
        string?[] owners = await Cluster.WaitForSameOwnersAsync(again, "counter", Bounds.ViewConvergence);
        Cluster.Log($"node3 rejoined in {rejoin.TotalSeconds:0.00} s: {TestCluster.Summarize(owners)}");
        CallReport rejoined = await Cluster.CallsAsync(nodes[1], "counter", Ids, "stay");
        Assert.Equal(Ids, rejoined.Ok);
        Assert.Equal(0, rejoined.Misrouted);
        Assert.True(rejoined.Nodes.GetValueOrDefault(back.Name) > 0, $"the rejoined node3 answered none of {Ids} ids: {rejoined.Line}");
    }

    [Fact]
    public async Task A_node_with_another_cluster_ca_never_joins()
    {
        NodeProcess[] nodes = await Cluster.StartAsync(
            new NodeSpec("node1", "counter"),
            new NodeSpec("node2", "counter"));
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);

        // The intruder's development certificates come from its own folder, so its CA is another one. A legitimate node
        // starts at the same moment: it joining proves joins work while the intruder is being refused.
        string foreignCertificates = Path.Combine(Cluster.Folder, "foreign-certs");
        NodeProcess[] newcomers = await Cluster.StartAsync(
            new NodeSpec("intruder", "counter") { Settings = new Dictionary<string, string> { ["Mesh:Tls:DevelopmentCertificateFolder"] = foreignCertificates } },
            new NodeSpec("node3", "counter"));
        NodeProcess intruder = newcomers[0];
        NodeProcess[] cluster = [nodes[0], nodes[1], newcomers[1]];
        await Cluster.WaitForViewAsync(cluster, cluster, Bounds.ViewConvergence);

        long watching = Stopwatch.GetTimestamp();
        int polls = 0;
        while (Stopwatch.GetElapsedTime(watching) < Bounds.IntruderObservation)
        {
            Dictionary<string, List<Member>> views = await Cluster.ViewsAsync(cluster);
            Assert.False(views.Values.Any(v => v.Exists(m => m.Name == intruder.Name)), $"A node with another CA got into a view: {TestCluster.Describe(views)}");
            List<Member> own = Replies.Members(await intruder.SendExpectingAsync("members", "MEMBERS", Bounds.Command));
            Assert.True(own.Count == 1 && own[0].Name == intruder.Name, $"The intruder lists others: [{string.Join(' ', own)}]");
            polls++;
            await Task.Delay(Bounds.Poll);
        }

        string call = await intruder.SendAsync("call counter someone", Bounds.Command);
        Cluster.Log($"over {Bounds.IntruderObservation.TotalSeconds:0} s ({polls} polls of all views) no member listed the intruder, which sees only itself; its call to its own capability: {call}");
    }
}
