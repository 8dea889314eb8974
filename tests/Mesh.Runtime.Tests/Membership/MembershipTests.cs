using System.Collections.Frozen;
using Mesh.Membership;
using Xunit.Abstractions;

namespace Mesh.Runtime.Tests.Membership;

public sealed class MembershipTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Nodes_joining_through_one_seed_converge_to_the_same_view()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(6, output);

        foreach (TestMember member in cluster.Members)
        {
            Assert.Equal(cluster.Members.Select(m => m.Name).Order(StringComparer.Ordinal), member.Current.Members.Select(m => m.Name));
            Assert.Equal(member.Name, member.Current.Self.Name);
            Assert.All(member.Current.Members, m => Assert.Equal(["counter"], m.Capabilities));
            Assert.False(member.Misordered);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_killed_or_hung_node_is_suspected_then_declared_down_on_every_other_node_within_the_bound(bool hung)
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(5, output);
        TestMember victim = cluster[4];
        MembershipSettings s = victim.Settings;

        // The bound of docs/membership: every live node probes the victim within two of its rounds (n - 1 probes each),
        // the direct and indirect probes fail, the suspicion runs out, and the news needs about log2(n) rounds.
        int n = cluster.Members.Count;
        TimeSpan bound = (s.ProbeInterval * (2 * (n - 1))) + s.ProbeTimeout + s.IndirectProbeTimeout + s.SuspicionTimeoutFor(n) + (s.ProbeInterval * (1 + Math.Ceiling(Math.Log2(n))));
        output.WriteLine($"Detection bound: {bound.TotalMilliseconds:F0} ms");

        if (hung)
        {
            // Connections stay open but nothing comes back: probes and indirect probes time out.
            cluster.Network.Freeze(victim.Endpoint);
        }
        else
        {
            // The process is gone: connecting is refused at once.
            await victim.Service.DisposeAsync();
            cluster.Network.Kill(victim.Endpoint);
        }

        TestMember[] others = [.. cluster.Members.Take(4)];

        // The wait allows several bounds for a busy machine; the time measured is printed.
        await cluster.WaitUntilAsync(() => others.All(m => m.StatusOf(victim.Name) == MeshNodeStatus.Down), "the killed node is down everywhere", bound * 4);

        Assert.Contains(others, m => m.Service.Metrics.Suspicions > 0);
        Assert.Contains(others, m => m.Service.Metrics.ProbesFailed > 0);
        foreach (TestMember member in others)
        {
            MembershipChangeKind[] kinds = [.. member.ChangesAbout(victim.Name).Select(c => c.Kind)];
            Assert.Equal(MembershipChangeKind.Down, kinds[^1]);
            Assert.Contains(MembershipChangeKind.Suspect, kinds);
            Assert.True(Array.IndexOf(kinds, MembershipChangeKind.Suspect) < Array.LastIndexOf(kinds, MembershipChangeKind.Down));
            Assert.Equal(1, member.Service.Metrics.MembersIn(MeshNodeStatus.Down));
            Assert.Equal(4, member.Service.Metrics.MembersIn(MeshNodeStatus.Up));
        }
    }

    [Fact]
    public async Task A_falsely_suspected_node_refutes_and_is_never_declared_down()
    {
        await using var cluster = new MembershipCluster(output);
        for (int i = 0; i < 4; i++)
        {
            MembershipSettings settings = cluster.Settings($"node-{i}", MembershipCluster.Endpoint(i), [MembershipCluster.Endpoint(0)]) with { SuspicionTimeout = TimeSpan.FromSeconds(30) };
            await cluster.AddAsync(settings);
        }

        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.UpCount == 4), "all 4 nodes see each other up");
        TestMember target = cluster[3];

        // Every probe of node 3 is lost, direct or indirect; everything node 3 sends still arrives.
        cluster.Network.Drop((_, to, type) => to == target.Endpoint && type == MembershipMessageType.Ping);
        await cluster.WaitUntilAsync(() => cluster.Members.Take(3).Any(m => m.ChangesAbout(target.Name).Any(c => c.Kind == MembershipChangeKind.Suspect)), "node 3 is suspected");
        await cluster.WaitUntilAsync(() => target.Service.Metrics.Refutations > 0, "node 3 refutes");
        cluster.Network.Drop(null);

        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.StatusOf(target.Name) == MeshNodeStatus.Up), "node 3 is up everywhere again");
        Assert.Contains(cluster.Members.Take(3), m => m.ChangesAbout(target.Name).Any(c => c.Kind == MembershipChangeKind.Alive));
        Assert.All(cluster.Members, m => Assert.DoesNotContain(m.ChangesAbout(target.Name), c => c.Kind == MembershipChangeKind.Down));
        Assert.Equal(target.Settings.Incarnation, cluster[0].View(target.Name)!.Incarnation);
    }

    [Fact]
    public async Task A_node_that_leaves_is_left_on_every_other_node_when_leaving_returns()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(5, output);
        TestMember leaving = cluster[2];

        await leaving.Service.LeaveAsync(CancellationToken.None);

        Assert.Equal(MeshNodeStatus.Left, leaving.Current.Self.Status);
        foreach (TestMember member in cluster.Members.Where(m => m != leaving))
        {
            Assert.Equal(MeshNodeStatus.Left, member.StatusOf(leaving.Name));
            Assert.Equal(MembershipChangeKind.Left, member.ChangesAbout(leaving.Name).Last().Kind);
        }

        // Left is final: the node's own gossip, later probes and state exchanges never bring it back.
        await Task.WhenAll(cluster.Members.Where(m => m != leaving).Select(m => m.Service.SyncRoundAsync(CancellationToken.None)));
        Assert.All(cluster.Members.Where(m => m != leaving), m => Assert.Equal(MeshNodeStatus.Left, m.StatusOf(leaving.Name)));
    }

    [Fact]
    public async Task Capabilities_announced_at_run_time_reach_every_node()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(5, output);
        TestMember announcer = cluster[1];

        await announcer.Service.AnnounceCapabilitiesAsync(new HashSet<string> { "counter", "game" }, CancellationToken.None);

        Assert.Equal(["counter", "game"], announcer.Current.Self.Capabilities.Order(StringComparer.Ordinal));
        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.View(announcer.Name)!.Capabilities.Contains("game")), "every node knows node 1 serves game");
        Assert.All(cluster.Members, m => Assert.Contains(m.ChangesAbout(announcer.Name), c => c.Kind == MembershipChangeKind.CapabilitiesChanged && c.Node.Capabilities.Contains("game")));
    }

    [Fact]
    public async Task A_node_restarted_with_the_same_name_and_address_is_a_new_member_and_the_old_one_never_returns()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(4, output);
        TestMember old = cluster[3];
        long oldIncarnation = old.Settings.Incarnation;
        await old.Service.DisposeAsync();
        cluster.Network.Kill(old.Endpoint);

        TestMember restarted = await cluster.AddAsync(cluster.Settings(old.Name, old.Endpoint, [MembershipCluster.Endpoint(0)]));
        await cluster.WaitUntilAsync(() => cluster.Members.Take(3).All(m => m.View(old.Name) is { Status: MeshNodeStatus.Up } node && node.Incarnation == restarted.Settings.Incarnation), "every node sees the new run up");

        // Let probes and state exchanges run a while: the old run must not come back anywhere.
        await Task.WhenAll(cluster.Members.Take(3).Select(m => m.Service.SyncRoundAsync(CancellationToken.None)));
        await cluster.WaitUntilAsync(() => cluster.Members.Take(3).All(m => m.Service.Metrics.ProbesSent > 20), "more probe rounds");
        foreach (TestMember member in cluster.Members.Take(3))
        {
            Assert.Single(member.Current.Members, m => m.Name == old.Name);
            MembershipChangedEventArgs[] changes = [.. member.ChangesAbout(old.Name)];
            int replaced = Array.FindIndex(changes, c => c.Node.Incarnation == restarted.Settings.Incarnation);
            Assert.True(replaced > 0);
            Assert.Contains(changes[..replaced], c => c.Kind == MembershipChangeKind.Down && c.Node.Incarnation == oldIncarnation);
            Assert.DoesNotContain(changes[replaced..], c => c.Node.Incarnation == oldIncarnation);
            Assert.DoesNotContain(member.Views.SkipWhile(v => !v.View.Members.Contains(restarted.Current.Self)).SelectMany(v => v.View.Members), m => m.Name == old.Name && m.Incarnation == oldIncarnation);
        }
    }

    [Fact]
    public async Task A_node_restarted_on_the_same_address_under_another_name_replaces_the_old_member()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(4, output);
        TestMember old = cluster[3];
        await old.Service.DisposeAsync();
        cluster.Network.Kill(old.Endpoint);

        TestMember renamed = await cluster.AddAsync(cluster.Settings("node-renamed", old.Endpoint, [MembershipCluster.Endpoint(0)]));

        await cluster.WaitUntilAsync(() => cluster.Members.Take(3).All(m => m.StatusOf(renamed.Name) == MeshNodeStatus.Up && m.StatusOf(old.Name) == MeshNodeStatus.Down), "the old name is down and the new one up everywhere");
        Assert.All(cluster.Members.Take(3), m => Assert.DoesNotContain(m.ChangesAbout(old.Name), c => c.Kind is MembershipChangeKind.Alive));
    }

    [Theory]
    [InlineData("ClusterName")]
    [InlineData("ShardCount")]
    public async Task A_node_whose_settings_differ_is_refused_with_the_setting_named(string setting)
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(2, output);
        MembershipSettings settings = cluster.Settings("stranger", "10.0.0.9:7400", [MembershipCluster.Endpoint(0)]);
        settings = setting == "ClusterName" ? settings with { ClusterName = "other" } : settings with { ShardCount = 128 };

        MeshMembershipException refusal = await Assert.ThrowsAsync<MeshMembershipException>(() => cluster.AddAsync(settings));

        Assert.Equal(setting, refusal.Setting);
        Assert.Contains(setting, refusal.Message, StringComparison.Ordinal);
        Assert.Equal(1, cluster[0].Service.Metrics.JoinRefusals);
        Assert.DoesNotContain(cluster[0].Current.Members, m => m.Name == "stranger");
    }

    [Fact]
    public async Task Both_sides_of_a_healed_partition_converge_to_one_view()
    {
        await using MembershipCluster cluster = await MembershipCluster.StartAsync(6, output);
        string[] left = [.. cluster.Members.Take(3).Select(m => m.Endpoint)];
        cluster.Network.Partition(left);
        await cluster.WaitUntilAsync(
            () => cluster.Members.All(m => m.Current.Members.Count(n => n.Status == MeshNodeStatus.Down) == 3),
            "each side declares the other down");

        cluster.Network.Heal();

        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.UpCount == 6), "all 6 nodes see each other up again");
        foreach (TestMember member in cluster.Members)
        {
            Assert.Equal(cluster[0].Current.Members.Select(m => (m.Name, m.Incarnation)), member.Current.Members.Select(m => (m.Name, m.Incarnation)));
            Assert.False(member.Misordered);
        }
    }

    [Fact]
    public async Task A_node_whose_seeds_are_down_starts_alone_and_joins_when_a_seed_appears()
    {
        await using var cluster = new MembershipCluster(output);
        TestMember early = await cluster.AddAsync(cluster.Settings("early", "10.0.0.1:7400", ["10.0.0.0:7400"]));
        Assert.Single(early.Current.Members);
        await cluster.WaitUntilAsync(() => cluster.Network.RequestsTo("10.0.0.0:7400") >= 3, "the joiner keeps trying its seed");

        await cluster.AddAsync(cluster.Settings("seed", "10.0.0.0:7400"));

        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.UpCount == 2), "the two nodes see each other");
    }

    [Fact]
    public async Task A_node_listed_in_its_own_seeds_ignores_itself()
    {
        await using var cluster = new MembershipCluster(output);
        TestMember only = await cluster.AddAsync(cluster.Settings("only", "10.0.0.1:7400", ["10.0.0.1:7400"]));
        TestMember other = await cluster.AddAsync(cluster.Settings("other", "10.0.0.2:7400", ["10.0.0.1:7400", "10.0.0.2:7400"]));

        await cluster.WaitUntilAsync(() => only.UpCount == 2 && other.UpCount == 2, "both nodes see each other");
        Assert.Equal(0, cluster.Network.RequestsBetween(only.Endpoint, only.Endpoint));
        Assert.Equal(0, cluster.Network.RequestsBetween(other.Endpoint, other.Endpoint));
    }

    [Fact]
    public async Task A_node_reaching_itself_through_a_seed_alias_does_not_add_itself_twice()
    {
        await using var cluster = new MembershipCluster(output);
        MembershipSettings settings = cluster.Settings("alone", "10.0.0.1:7400", ["alias:7400"]);
        TestMember alone = await cluster.AddAsync(settings);
        cluster.Network.Listen("alias:7400", alone.Service);

        await cluster.WaitUntilAsync(() => cluster.Network.RequestsTo("alias:7400") >= 3, "the node keeps trying the alias");

        Assert.Equal([alone.Name], alone.Current.Members.Select(m => m.Name));
        Assert.Equal(MeshNodeStatus.Up, alone.Current.Self.Status);
    }
}
