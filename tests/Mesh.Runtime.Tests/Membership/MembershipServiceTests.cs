using System.Buffers;
using System.Collections.Frozen;
using Mesh.Membership;
using Mesh.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Membership;

/// <summary>One service driven round by round on a manual clock: deterministic timing of suspicion and tombstones,
/// and the merge rules.</summary>
public sealed class MembershipServiceTests
{
    private static readonly PeerIdentity Peer = new("test", "TEST");

    [Fact]
    public async Task A_suspect_is_declared_down_exactly_when_its_suspicion_timeout_runs_out()
    {
        var clock = new ManualClock();
        (MembershipService service, TestMember node) = Create(clock);
        await Gossip(service, Update("node-b", 5, 0, MeshNodeStatus.Up, "10.0.0.2:7400"));
        Assert.Equal(MeshNodeStatus.Up, node.StatusOf("node-b"));

        // node-b's endpoint refuses connections and there is no third member to probe it indirectly.
        await service.ProbeRoundAsync(CancellationToken.None);
        Assert.Equal(MeshNodeStatus.Suspect, node.StatusOf("node-b"));

        clock.Advance(node.Settings.SuspicionTimeout - TimeSpan.FromTicks(1));
        await service.ProbeRoundAsync(CancellationToken.None);
        Assert.Equal(MeshNodeStatus.Suspect, node.StatusOf("node-b"));

        clock.Advance(TimeSpan.FromTicks(1));
        await service.ProbeRoundAsync(CancellationToken.None);
        Assert.Equal(MeshNodeStatus.Down, node.StatusOf("node-b"));
        Assert.Equal([MembershipChangeKind.Up, MembershipChangeKind.Suspect, MembershipChangeKind.Down], node.ChangesAbout("node-b").Select(c => c.Kind));
        Assert.Equal(1, service.Metrics.Suspicions);

        // The tombstone outlives every retransmission, then goes: no event, a new view without it.
        clock.Advance(node.Settings.TombstoneRetention);
        await service.ProbeRoundAsync(CancellationToken.None);
        Assert.Null(node.View("node-b"));
        Assert.False(node.Misordered);
        await service.DisposeAsync();
    }

    [Fact]
    public async Task Merge_rules_order_updates_by_incarnation_then_epoch_and_keep_left_final()
    {
        (MembershipService service, TestMember node) = Create(new ManualClock());

        await Gossip(service, Update("node-b", 5, 3, MeshNodeStatus.Up));
        await Gossip(service, Update("node-b", 5, 2, MeshNodeStatus.Suspect));
        Assert.Equal(MeshNodeStatus.Up, node.StatusOf("node-b"));

        await Gossip(service, Update("node-b", 5, 3, MeshNodeStatus.Suspect));
        Assert.Equal(MeshNodeStatus.Suspect, node.StatusOf("node-b"));

        await Gossip(service, Update("node-b", 5, 3, MeshNodeStatus.Up));
        Assert.Equal(MeshNodeStatus.Suspect, node.StatusOf("node-b"));

        await Gossip(service, Update("node-b", 5, 4, MeshNodeStatus.Up));
        Assert.Equal(MeshNodeStatus.Up, node.StatusOf("node-b"));

        await Gossip(service, Update("node-b", 4, 99, MeshNodeStatus.Up, capabilities: ["stale"]));
        Assert.Equal(5, node.View("node-b")!.Incarnation);

        await Gossip(service, Update("node-b", 5, 4, MeshNodeStatus.Left));
        await Gossip(service, Update("node-b", 5, 100, MeshNodeStatus.Up));
        Assert.Equal(MeshNodeStatus.Left, node.StatusOf("node-b"));

        await Gossip(service, Update("node-b", 6, 0, MeshNodeStatus.Up));
        Assert.Equal((6L, MeshNodeStatus.Up), (node.View("node-b")!.Incarnation, node.View("node-b")!.Status));
        Assert.Equal(
            [MembershipChangeKind.Up, MembershipChangeKind.Suspect, MembershipChangeKind.Alive, MembershipChangeKind.Left, MembershipChangeKind.Up],
            node.ChangesAbout("node-b").Select(c => c.Kind));
        await service.DisposeAsync();
    }

    [Fact]
    public async Task A_node_that_hears_it_is_suspected_raises_its_epoch_and_gossips_that_it_is_alive()
    {
        (MembershipService service, TestMember node) = Create(new ManualClock());
        MembershipSettings s = node.Settings;

        await Gossip(service, new MemberUpdate(s.NodeName, s.Incarnation, 0, MeshNodeStatus.Suspect, s.AdvertisedEndpoint, s.Capabilities));

        Assert.Equal(1, service.Metrics.Refutations);
        Assert.Equal(MeshNodeStatus.Up, node.Current.Self.Status);
        var response = new ArrayBufferWriter<byte>();
        byte[] ping = MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Ping, Sender = new("node-b", 5), Target = new(s.NodeName, s.Incarnation) });
        await service.HandleRequestAsync(new ReadOnlySequence<byte>(ping), response, Peer, CancellationToken.None);
        MembershipMessage ack = MembershipCodec.Read(response.WrittenSpan);
        Assert.Equal(new MemberId(s.NodeName, s.Incarnation), ack.Sender);
        Assert.Contains(ack.Updates, u => u.Name == s.NodeName && u.Status == MeshNodeStatus.Up && u.Epoch == 1);
        await service.DisposeAsync();
    }

    [Fact]
    public async Task Malformed_messages_are_refused_counted_and_leave_the_view_untouched()
    {
        (MembershipService service, TestMember node) = Create(new ManualClock());

        await Assert.ThrowsAsync<MeshProtocolException>(async () => await service.HandleRequestAsync(new ReadOnlySequence<byte>([1, 2, 3]), new ArrayBufferWriter<byte>(), Peer, CancellationToken.None));
        await Assert.ThrowsAsync<MeshProtocolException>(async () => await service.HandleOneWayAsync(new ReadOnlySequence<byte>([9]), Peer, CancellationToken.None));

        Assert.Equal(2, service.Metrics.MalformedMessages);
        Assert.Single(node.Current.Members);
        await service.DisposeAsync();
    }

    [Fact]
    public async Task Views_are_handed_over_one_at_a_time_in_version_order_under_concurrent_updates()
    {
        (MembershipService service, TestMember node) = Create(new ManualClock());

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 50; i++)
            {
                await Gossip(service, Update($"node-{t}-{i}", 1, 0, MeshNodeStatus.Up, $"10.{t}.{i}.1:7400"));
            }
        })));

        Assert.False(node.Misordered);
        Assert.Equal(401, node.Current.Members.Length);
        Assert.Equal(node.Current.Version, node.Views.Last().View.Version);
        Assert.Equal(400, node.Views.Sum(v => v.Changes.Count(c => c.Kind == MembershipChangeKind.Up)));
        await service.DisposeAsync();
    }

    [Fact]
    public async Task The_view_stops_growing_at_the_most_members_one_state_exchange_carries()
    {
        (MembershipService service, TestMember node) = Create(new ManualClock());

        for (int batch = 0; batch < 5; batch++)
        {
            MemberUpdate[] updates = [.. Enumerable.Range(batch * 1000, 1000).Select(i => Update($"n{i}", 1, 0, MeshNodeStatus.Up, $"10.{i / 250}.{i % 250}.1:7400"))];
            await service.HandleOneWayAsync(new ReadOnlySequence<byte>(MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Gossip, Sender = new("node-z", 1), Updates = updates })), Peer, CancellationToken.None);
        }

        Assert.Equal(MembershipCodec.MaxMembers, node.Current.Members.Length);
        byte[] state = MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.SyncAck, Sender = new("node-a", 1), Updates = [.. node.Current.Members.Select(m => Update(m.Name, m.Incarnation, 0, m.Status, m.Endpoint ?? "10.0.0.1:7400"))] });
        Assert.Equal(MembershipCodec.MaxMembers, MembershipCodec.Read(state).Updates.Count);
        await service.DisposeAsync();
    }

    private static (MembershipService Service, TestMember Node) Create(TimeProvider clock)
    {
        MembershipSettings settings = new MembershipCluster().Settings("node-a", "10.0.0.1:7400");
        var node = new TestMember(settings);
        var service = new MembershipService(new SimulatedNetwork(clock).For(settings.AdvertisedEndpoint), settings, SeedSource.None, node.OnChanged, NullLogger.Instance, clock);
        node.Service = service;
        return (service, node);
    }

    private static MemberUpdate Update(string name, long incarnation, long epoch, MeshNodeStatus status, string endpoint = "10.0.0.2:7400", string[]? capabilities = null) =>
        new(name, incarnation, epoch, status, endpoint, (capabilities ?? ["counter"]).ToFrozenSet(StringComparer.Ordinal));

    private static ValueTask Gossip(MembershipService service, MemberUpdate update) =>
        service.HandleOneWayAsync(new ReadOnlySequence<byte>(MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Gossip, Sender = new("node-z", 1), Updates = [update] })), Peer, CancellationToken.None);
}
