using System.Collections.Frozen;
using Mesh.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Runtime.Tests;

public sealed class RoutingTests
{
    private static readonly FrozenSet<string> Counter = new[] { "counter" }.ToFrozenSet();

    [Fact]
    public void ShardFor_is_XxHash3_of_the_UTF8_id_modulo_the_shard_count_and_never_changes()
    {
        // Pinned values: every node of every version in one cluster must agree, so a change here is a breaking change.
        ulong counter1 = System.IO.Hashing.XxHash3.HashToUInt64("counter_1"u8);
        Assert.Equal((int)(counter1 % 4096), ShardHash.ShardOf("counter_1", 4096));
        Assert.Equal((int)(System.IO.Hashing.XxHash3.HashToUInt64("héllo wörld"u8) % 7), ShardHash.ShardOf("héllo wörld", 7));
        string longId = new('x', 1000);
        Assert.Equal((int)(System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(longId)) % 4096), ShardHash.ShardOf(longId, 4096));
    }

    [Fact]
    public void Ids_spread_evenly_over_the_shards()
    {
        var counts = new int[64];
        for (int i = 0; i < 64_000; i++)
        {
            counts[ShardHash.ShardOf("player-" + i, counts.Length)]++;
        }

        // 1,000 expected per shard; a fair hash stays well within ±20% (about 6 standard deviations).
        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Fact]
    public void Three_nodes_share_the_shards_and_a_fourth_takes_about_a_quarter_only_from_the_others()
    {
        MeshNode[] three = [Node("a"), Node("b"), Node("c")];
        RoutingTable before = RoutingTable.Build(three, 4096, RendezvousShardStrategy.Instance, 1);
        RoutingTable after = RoutingTable.Build([.. three, Node("d")], 4096, RendezvousShardStrategy.Instance, 2);

        var owned = three.ToDictionary(n => n.Name, _ => 0);
        int moved = 0;
        for (int shard = 0; shard < 4096; shard++)
        {
            MeshNode was = before.OwnerOf("counter", shard)!;
            MeshNode now = after.OwnerOf("counter", shard)!;
            owned[was.Name]++;
            if (!was.Equals(now))
            {
                moved++;
                Assert.Equal("d", now.Name); // a shard only ever moves to the new node
            }
        }

        // Each of 3 owns a third (1,365) within ±10%; the 4th takes a quarter (1,024) within ±15%.
        Assert.All(owned.Values, c => Assert.InRange(c, 1229, 1502));
        Assert.InRange(moved, 870, 1178);
    }

    [Fact]
    public void A_leaving_node_gives_up_only_its_own_shards()
    {
        MeshNode[] four = [Node("a"), Node("b"), Node("c"), Node("d")];
        RoutingTable before = RoutingTable.Build(four, 1024, RendezvousShardStrategy.Instance, 1);
        RoutingTable after = RoutingTable.Build([four[0], four[1], four[2], Node("d", MeshNodeStatus.Left)], 1024, RendezvousShardStrategy.Instance, 2);

        for (int shard = 0; shard < 1024; shard++)
        {
            MeshNode was = before.OwnerOf("counter", shard)!;
            MeshNode now = after.OwnerOf("counter", shard)!;
            Assert.NotEqual("d", now.Name);
            if (was.Name != "d")
            {
                Assert.Equal(was, now);
            }
        }
    }

    [Fact]
    public void Only_nodes_that_are_up_or_suspect_and_have_the_capability_are_candidates()
    {
        MeshNode chat = new("chat-node", 1, "127.0.0.1:1", new[] { "chat" }.ToFrozenSet(), MeshNodeStatus.Up);
        RoutingTable table = RoutingTable.Build(
            [Node("a", MeshNodeStatus.Suspect), Node("b"), Node("c", MeshNodeStatus.Down), Node("d", MeshNodeStatus.Left), chat], 16, RendezvousShardStrategy.Instance, 1);

        // A suspect keeps its shards until it is declared down; down and left members serve nothing.
        Assert.Equal(["a", "b"], table.NodesFor("counter").Select(n => n.Name));
        Assert.Equal(["chat-node"], table.NodesFor("chat").Select(n => n.Name));
        Assert.Empty(table.NodesFor("game"));
        Assert.Null(table.OwnerOf("game", 3));
        Assert.Equal(new[] { "chat", "counter" }, table.AllCapabilities.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_node_answers_introspection_for_its_own_capabilities_and_after_registering_more()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:ShardCount"] = "128" });
        IMesh mesh = node.Mesh;

        int shard = mesh.ShardFor("counter_1");
        Assert.Equal(ShardHash.ShardOf("counter_1", 128), shard);
        Assert.Same(mesh.Self, mesh.OwnerOf("probe", "counter_1"));
        Assert.Equal([mesh.Self], mesh.NodesFor("probe"));
        Assert.Null(mesh.OwnerOf("game", "x"));
        Assert.Empty(mesh.NodesFor("game"));
        Assert.Equal(new[] { "probe" }, mesh.AllCapabilities());
        Assert.Equal(MeshNodeStatus.Up, mesh.Self.Status);

        await mesh.RegisterCapabilitiesAsync(["other"]);

        Assert.Contains("other", mesh.Self.Capabilities);
        Assert.Equal(new[] { "other", "probe" }, mesh.AllCapabilities().Order(StringComparer.Ordinal));
        Assert.Same(mesh.Self, mesh.OwnerOf("other", "anything"));
    }

    [Fact]
    public async Task A_shard_strategy_registered_in_DI_replaces_rendezvous_hashing()
    {
        var strategy = new CountingStrategy();
        await using TestNode node = await TestNode.StartAsync(["probe"], new() { ["Mesh:ShardCount"] = "32" }, services => services.AddSingleton<IShardStrategy>(strategy));

        Assert.Same(node.Mesh.Self, node.Mesh.OwnerOf("probe", "k"));
        Assert.Equal(32, strategy.Calls);
    }

    [Fact]
    public async Task Routing_a_key_allocates_nothing()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IMesh mesh = node.Mesh;
        Assert.NotNull(mesh.OwnerOf("probe", "player-42"));

        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 1000; i++)
        {
            sum += mesh.ShardFor("player-42");
            sum += mesh.OwnerOf("probe", "player-42") is null ? 0 : 1;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum > 0);
    }

    private static MeshNode Node(string name, MeshNodeStatus status = MeshNodeStatus.Up) => new(name, 1, "127.0.0.1:" + name.Length, Counter, status);

    private sealed class CountingStrategy : IShardStrategy
    {
        public int Calls;

        public MeshNode SelectOwner(string capability, int shard, IReadOnlyList<MeshNode> candidates)
        {
            Interlocked.Increment(ref Calls);
            return candidates[^1];
        }
    }
}
