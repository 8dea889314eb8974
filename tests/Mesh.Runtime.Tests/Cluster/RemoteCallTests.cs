using System.Buffers;
using System.Collections.Immutable;
using Mesh.Messaging;
using Mesh.Routing;
using Mesh.Transport.Framing;
using Mesh.Transport.Tests;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>Calls between runtimes in one process, over the in-memory transport, with views applied by hand.</summary>
public sealed class RemoteCallTests
{
    [Fact]
    public async Task A_call_from_every_node_reaches_the_single_owner()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        ClusterNode owner = cluster[1];
        string key = TestCluster.KeyOwnedBy(cluster[0], owner);

        var results = new List<int>();
        for (int round = 0; round < 3; round++)
        {
            foreach (ClusterNode caller in cluster.Nodes)
            {
                results.Add(await caller.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
            }
        }

        Assert.Equal(Enumerable.Range(1, 9), results);
        Assert.Equal(1, owner.Probe.Count("created:" + key));
        Assert.Equal(0, cluster[0].Probe.Count("created:" + key));
        Assert.Equal(0, cluster[2].Probe.Count("created:" + key));
    }

    [Fact]
    public async Task Concurrent_requests_smaller_and_larger_than_the_owners_request_buffer_are_each_answered_with_their_own_bytes()
    {
        // Requests up to RemoteCallItem.MaxOwnBufferLength are copied into a buffer the pooled item keeps, larger ones
        // into pooled arrays: many in flight at once, of both kinds, must never see another call's bytes.
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        IProbeActor actor = cluster[0].Mesh.GetActor<IProbeActor>(key);
        int[] lengths = [0, 1, 500, RemoteCallItem.MaxOwnBufferLength - 100, RemoteCallItem.MaxOwnBufferLength, RemoteCallItem.MaxOwnBufferLength + 1, 5000, 70_000];

        for (int round = 0; round < 3; round++)
        {
            var calls = new List<(string Text, Task<string> Echo)>();
            for (int i = 0; i < 64; i++)
            {
                int length = lengths[i % lengths.Length];
                string text = string.Create(length, (round, i), static (span, state) =>
                {
                    for (int c = 0; c < span.Length; c++)
                    {
                        span[c] = (char)('a' + ((c + state.i + state.round) % 26));
                    }
                });
                calls.Add((text, actor.EchoAsync(text).AsTask()));
            }

            await Task.WhenAll(calls.Select(c => c.Echo)).Within();
            foreach ((string text, Task<string> echo) in calls)
            {
                Assert.Equal(text, await echo);
            }
        }
    }

    [Fact]
    public async Task One_way_messages_cross_nodes_in_the_order_sent()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        IProbeActor actor = cluster[0].Mesh.GetActor<IProbeActor>(key);

        for (int i = 0; i < 20; i++)
        {
            await actor.AppendOneWayAsync(i).AsTask().Within();
        }

        Assert.Equal(Enumerable.Range(0, 20), await actor.ReadAsync().AsTask().Within());
        Assert.Equal(1, cluster[1].Probe.Count("created:" + key));
    }

    [Fact]
    public async Task A_remote_actor_exception_surfaces_exactly_as_a_local_one()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);

        ActorInvocationException remote = await Assert.ThrowsAsync<ActorInvocationException>(() => cluster[0].Mesh.GetActor<IProbeActor>(key).ThrowAsync("boom").AsTask()).Within();
        ActorInvocationException local = await Assert.ThrowsAsync<ActorInvocationException>(() => cluster[1].Mesh.GetActor<IProbeActor>(key).ThrowAsync("boom").AsTask()).Within();

        Assert.Equal(local.Actor, remote.Actor);
        Assert.Equal(local.Method, remote.Method);
        Assert.Equal(local.RemoteExceptionType, remote.RemoteExceptionType);
        Assert.Equal("System.InvalidOperationException", remote.RemoteExceptionType);
        Assert.Equal(local.RemoteMessage, remote.RemoteMessage);
        Assert.Equal(local.Message, remote.Message);
        Assert.Contains(nameof(ProbeActor.ThrowAsync), remote.RemoteStackTrace, StringComparison.Ordinal);

        // The actor stays active and keeps serving, as after a local failure.
        Assert.Equal(1, await cluster[0].Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
        Assert.Equal(2, cluster[1].Runtime.Metrics.Failures);
    }

    [Fact]
    public async Task A_remote_call_that_outlives_its_timeout_throws_MeshTimeoutException_like_a_local_one()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2, new() { ["Mesh:DefaultCallTimeout"] = "00:00:01" });
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string gate = TestNode.NewKey();

        MeshTimeoutException timeout = await Assert.ThrowsAsync<MeshTimeoutException>(() => cluster[0].Mesh.GetActor<IProbeActor>(key).HoldAsync(gate).AsTask()).Within();

        Assert.Equal(nameof(IProbeActor.HoldAsync), timeout.Method);
        Assert.Equal(TimeSpan.FromSeconds(1), timeout.Timeout);

        // The held turn ends on the owner (its answer is dropped); the next call finds the actor serving.
        cluster[1].Probe.Open(gate);
        await cluster[1].Probe.WhenRecorded("left:" + gate).Within();
        Assert.Equal(2, await cluster[0].Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
    }

    [Fact]
    public async Task At_a_remote_calls_deadline_the_owner_cancels_the_token_its_actor_was_given()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2, new() { ["Mesh:DefaultCallTimeout"] = "00:00:00.500" });
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string gate = TestNode.NewKey();

        await Assert.ThrowsAsync<MeshTimeoutException>(() => cluster[0].Mesh.GetActor<IProbeActor>(key).WaitGateAsync(gate, default)).Within();

        // The caller's deadline travelled with the call: the owner cancels the actor's token, the turn ends, the actor
        // keeps serving.
        await cluster[1].Probe.WhenRecorded("cancelled:" + gate).Within();
        Assert.Equal(1, await cluster[0].Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
    }

    [Fact]
    public async Task A_cancellation_callback_that_throws_at_a_remote_deadline_is_logged_and_the_owner_keeps_serving()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2, new() { ["Mesh:DefaultCallTimeout"] = "00:00:00.500" });
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string gate = TestNode.NewKey();
        IProbeActor actor = cluster[0].Mesh.GetActor<IProbeActor>(key);

        await Assert.ThrowsAsync<MeshTimeoutException>(() => actor.HoldWithThrowingCallbackAsync(gate, default)).Within();

        // The callback threw on the thread that enforces the owner's deadlines; the owner's process survives, its turn
        // ends when the gate opens, and the actor answers the next call.
        cluster[1].Probe.Open(gate);
        await cluster[1].Probe.WhenRecorded("left:" + gate).Within();
        Assert.Equal(2, await actor.IncrementAsync().AsTask().Within());
    }

    [Fact]
    public async Task Cancelling_a_remote_call_throws_OperationCanceledException_and_the_owner_keeps_serving()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        string key = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string gate = TestNode.NewKey();
        using var cancel = new CancellationTokenSource();
        IProbeActor actor = cluster[0].Mesh.GetActor<IProbeActor>(key);

        Task<int> waiting = actor.WaitGateAsync(gate, cancel.Token);
        await cluster[1].Probe.WhenRecorded("entered:" + gate).Within();
        await cancel.CancelAsync();

        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).Within();
        Assert.Equal(cancel.Token, cancelled.CancellationToken);
        cluster[1].Probe.Open(gate);
        Assert.Equal(2, await actor.IncrementAsync().AsTask().Within());
    }

    [Fact]
    public async Task A_call_no_node_can_serve_fails_at_once_with_CapabilityUnavailableException()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);

        ValueTask<int> call = cluster[0].Mesh.GetActor<IOtherActor>("x").PingAsync();

        Assert.True(call.IsCompleted);
        CapabilityUnavailableException error = await Assert.ThrowsAsync<CapabilityUnavailableException>(() => call.AsTask());
        Assert.Equal("other", error.Capability);
    }

    [Fact]
    public async Task A_node_with_a_stale_view_forwards_the_call_to_the_owner_in_its_own_view()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(3);
        ClusterNode caller = cluster[0], stale = cluster[1], owner = cluster[2];

        // The caller's view: only the stale node serves. The stale node's and the owner's view: only the owner serves.
        caller.See(caller.Member(MeshNodeStatus.Left), stale.Member(), owner.Member(MeshNodeStatus.Left));
        stale.See(caller.Member(MeshNodeStatus.Left), stale.Member(MeshNodeStatus.Left), owner.Member());
        owner.See(caller.Member(MeshNodeStatus.Left), stale.Member(MeshNodeStatus.Left), owner.Member());
        string key = TestNode.NewKey();

        Assert.Equal(1, await caller.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());

        Assert.Equal(1, stale.Calls.ForwardedCalls);
        Assert.Equal(1, owner.Probe.Count("created:" + key));
        Assert.Equal(0, stale.Probe.Count("created:" + key));
    }

    [Fact]
    public async Task Views_that_disagree_stop_forwarding_at_the_hop_limit_and_the_caller_retries_until_they_agree()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];

        // a sees only b serving, b sees only a serving: the call bounces a -> b -> a -> b, which answers NotOwner.
        a.See(a.Member(MeshNodeStatus.Left), b.Member());
        b.See(a.Member(), b.Member(MeshNodeStatus.Left));
        string key = TestNode.NewKey();

        Task<int> call = a.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask();
        Assert.True(await Eventually.TrueAsync(() => b.Calls.NotOwnerAnswers > 0));
        Assert.False(call.IsCompleted);
        Assert.True(a.Calls.ForwardedCalls >= 1);
        Assert.True(b.Calls.ForwardedCalls >= 1);

        b.See(a.Member(MeshNodeStatus.Left), b.Member());

        Assert.Equal(1, await call.Within());
        Assert.Equal(1, b.Probe.Count("created:" + key));
        Assert.Equal(0, a.Probe.Count("created:" + key));
    }

    [Fact]
    public async Task Views_that_never_agree_end_the_retries_within_the_call_timeout_with_a_MeshException()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2, new() { ["Mesh:DefaultCallTimeout"] = "00:00:01" });
        ClusterNode a = cluster[0], b = cluster[1];
        a.See(a.Member(MeshNodeStatus.Left), b.Member());
        b.See(a.Member(), b.Member(MeshNodeStatus.Left));

        // Usually the last NotOwner answer; a MeshTimeoutException when the last bounce itself outlived the timeout.
        MeshException error = await Assert.ThrowsAnyAsync<MeshException>(() => a.Mesh.GetActor<IProbeActor>(TestNode.NewKey()).IncrementAsync().AsTask()).Within(10);

        Assert.True(error is MeshTimeoutException || error.Message.Contains("do not own it in their view", StringComparison.Ordinal), error.Message);
        Assert.True(b.Calls.NotOwnerAnswers > 1, $"{b.Calls.NotOwnerAnswers} NotOwner answers: the caller should have retried.");
    }

    [Fact]
    public async Task Rebalancing_deactivates_moved_actors_and_the_next_call_activates_them_on_the_new_owner()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];
        MeshNode[] full = [a.Member(), b.Member()];
        RoutingTable fullTable = RoutingTable.Build(full, a.Runtime.ShardCount, RendezvousShardStrategy.Instance, 1);
        string key = Enumerable.Range(0, 10_000).Select(_ => TestNode.NewKey()).First(k => fullTable.OwnerOf("probe", fullTable.ShardFor(k))!.Name == b.Name);

        // Before b joins, a owns everything.
        a.See(a.Member(), b.Member(MeshNodeStatus.Left));
        b.See(a.Member(), b.Member(MeshNodeStatus.Left));
        IProbeActor fromB = b.Mesh.GetActor<IProbeActor>(key);
        Assert.Equal(1, await fromB.IncrementAsync().AsTask().Within());
        Assert.Equal(1, a.Probe.Count("created:" + key));

        cluster.ApplyView();

        await a.Probe.WhenRecorded("deactivate:" + key + ":Rebalanced").Within();
        Assert.Equal(1, await fromB.IncrementAsync().AsTask().Within());
        Assert.Equal(2, await a.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
        Assert.Equal(1, b.Probe.Count("created:" + key));
        Assert.True(await Eventually.TrueAsync(() => a.Runtime.ActivationCount == 0));
    }

    [Fact]
    public async Task A_local_call_queued_behind_a_rebalancing_deactivation_goes_to_the_new_owner()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];
        MeshNode[] full = [a.Member(), b.Member()];
        RoutingTable fullTable = RoutingTable.Build(full, a.Runtime.ShardCount, RendezvousShardStrategy.Instance, 1);
        string key = Enumerable.Range(0, 10_000).Select(_ => TestNode.NewKey()).First(k => fullTable.OwnerOf("probe", fullTable.ShardFor(k))!.Name == b.Name);
        a.See(a.Member(), b.Member(MeshNodeStatus.Left));
        b.See(a.Member(), b.Member(MeshNodeStatus.Left));
        string gate = TestNode.NewKey();
        IProbeActor actor = a.Mesh.GetActor<IProbeActor>(key);

        // The mailbox on a: a held turn, then a deactivation, then a call routed while a still owned the id.
        Task<int> held = actor.HoldAsync(gate).AsTask();
        await a.Probe.WhenRecorded("entered:" + gate).Within();
        a.Runtime.GetActivation(new ActorId("probe", nameof(IProbeActor), key)).RequestDeactivation(DeactivationReason.Requested);
        Task<int> queued = actor.IncrementAsync().AsTask();
        cluster.ApplyView();
        a.Probe.Open(gate);

        Assert.Equal(1, await held.Within());
        Assert.Equal(1, await queued.Within());
        Assert.Equal(1, b.Probe.Count("created:" + key));
        Assert.Equal(1, a.Probe.Count("created:" + key));
    }

    [Fact]
    public async Task A_stopping_owner_finishes_calls_in_flight_and_refuses_new_ones_which_retry_on_the_next_owner()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];
        string key = TestCluster.KeyOwnedBy(a, b);
        string gate = TestNode.NewKey();
        IProbeActor actor = a.Mesh.GetActor<IProbeActor>(key);
        Task<int> held = actor.HoldAsync(gate).AsTask();
        await b.Probe.WhenRecorded("entered:" + gate).Within();

        Task stopping = b.Runtime.StopAsync(CancellationToken.None);
        Task<int> refused = actor.IncrementAsync().AsTask();
        Assert.True(await Eventually.TrueAsync(() => b.Runtime.Metrics.Rejected > 0));
        Assert.False(refused.IsCompleted);

        // Membership notices b leaving: the retried call goes to a.
        a.See(a.Member(), b.Member(MeshNodeStatus.Left));
        Assert.Equal(1, await refused.Within());
        Assert.Equal(1, a.Probe.Count("created:" + key));

        b.Probe.Open(gate);
        Assert.Equal(1, await held.Within());
        await stopping.Within();
    }

    [Fact]
    public async Task Malformed_envelopes_unknown_actors_and_unknown_services_get_typed_answers_and_other_calls_keep_working()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];

        using (FramePayload garbage = await a.Peers.RequestAsync(b.Endpoint, ClusterService.Call, new byte[] { 9, 9, 9 }, TimeSpan.FromSeconds(30), CancellationToken.None).AsTask().Within())
        {
            Assert.Equal(CallStatus.ProtocolError, CallResponse.ReadStatus(garbage.Span));
        }

        var envelope = new ArrayBufferWriter<byte>();
        CallEnvelope.Write(envelope, CallFlags.None, 0, 1, 1000, CallEnvelope.EncodeTarget(new ActorId("probe", "INope", "k")));
        using (FramePayload unknown = await a.Peers.RequestAsync(b.Endpoint, ClusterService.Call, envelope.WrittenMemory, TimeSpan.FromSeconds(30), CancellationToken.None).AsTask().Within())
        {
            Assert.Equal(CallStatus.UnknownActor, CallResponse.ReadStatus(unknown.Span));
            Assert.IsType<ActorActivationException>(CallResponse.ToException(unknown.Span, new ActorId("probe", "INope", "k"), "M", TimeSpan.FromSeconds(1)));
        }

        await Assert.ThrowsAsync<RemoteRequestException>(() => a.Peers.RequestAsync(b.Endpoint, (ClusterService)99, new byte[] { 1 }, TimeSpan.FromSeconds(30), CancellationToken.None).AsTask()).Within();

        Assert.Equal(1, b.Calls.MalformedCalls);
        Assert.Equal(1, b.Calls.UnknownActorCalls);
        Assert.Equal(1, b.Peers.UnknownServiceMessages);
        string key = TestCluster.KeyOwnedBy(a, b);
        Assert.Equal(1, await a.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
    }

    [Fact]
    public async Task Calls_to_one_actor_do_not_wait_behind_a_slow_call_to_another_on_the_same_connection()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        string slowKey = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string fastKey = TestCluster.KeyOwnedBy(cluster[0], cluster[1]);
        string gate = TestNode.NewKey();

        Task<int> held = cluster[0].Mesh.GetActor<IProbeActor>(slowKey).HoldAsync(gate).AsTask();
        await cluster[1].Probe.WhenRecorded("entered:" + gate).Within();

        Assert.Equal(1, await cluster[0].Mesh.GetActor<IProbeActor>(fastKey).IncrementAsync().AsTask().Within());
        Assert.False(held.IsCompleted);
        cluster[1].Probe.Open(gate);
        Assert.Equal(1, await held.Within());
    }

    [Fact]
    public async Task A_call_to_an_owner_nobody_can_connect_to_is_retried_and_ends_with_NodeUnreachableException_within_its_timeout()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2, new Dictionary<string, string?> { ["Mesh:DefaultCallTimeout"] = "00:00:01" });
        ClusterNode a = cluster[0], b = cluster[1];
        string key = TestCluster.KeyOwnedBy(a, b);
        await b.Peers.DisposeAsync();

        // Nothing was sent, so the caller routes it again until its time is up, then says why it could not place it.
        NodeUnreachableException error = await Assert.ThrowsAsync<NodeUnreachableException>(() => a.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask()).Within(5);
        Assert.Equal(b.Endpoint, error.Endpoint);
    }

    [Fact]
    public async Task A_call_to_an_owner_nobody_can_connect_to_lands_on_the_new_owner_once_the_view_drops_it()
    {
        await using TestCluster cluster = await TestCluster.StartAsync(2);
        ClusterNode a = cluster[0], b = cluster[1];
        string key = TestCluster.KeyOwnedBy(a, b);
        await b.Peers.DisposeAsync();

        Task<int> call = a.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask();
        a.See([a.Member()]);

        Assert.Equal(1, await call.Within(10));
        Assert.Equal(1, a.Runtime.ActivationCount);
    }
}
