using System.Buffers;
using System.Net;
using Mesh.Messaging;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>Connection management of <see cref="PeerConnections"/>, with the stats service as the thing to ask.</summary>
public sealed class PeerConnectionsTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly List<PeerConnections> _started = [];
    private PeerConnections _client = null!;

    public Task InitializeAsync()
    {
        _client = Start("client", backoff: TimeSpan.FromMilliseconds(100));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (PeerConnections peers in _started)
        {
            await peers.DisposeAsync();
        }

        _metrics.Dispose();
    }

    [Fact]
    public async Task Concurrent_first_calls_to_a_peer_share_one_connection()
    {
        (PeerConnections server, string endpoint) = await ListenAsync("server", 7);

        NodeStats[] answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Ask(_client, endpoint))).Within();

        Assert.All(answers, a => Assert.Equal(7, a.Activations));
        Assert.Equal(1, server.InboundConnections);
    }

    [Fact]
    public async Task A_peer_that_cannot_be_reached_fails_calls_at_once_until_the_backoff_ends_then_is_connected()
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, 40_001);
        string endpoint = HostPort.Format(endPoint);

        // A backoff long enough that the second call surely falls inside it, even on a loaded machine.
        PeerConnections client = Start("patient", backoff: TimeSpan.FromSeconds(3));

        await Assert.ThrowsAnyAsync<TransportException>(() => Ask(client, endpoint)).Within();
        TransportException fast = await Assert.ThrowsAnyAsync<TransportException>(() => Ask(client, endpoint)).Within();
        Assert.Contains("could not be reached recently", fast.Message, StringComparison.Ordinal);

        PeerConnections server = Start("late", backoff: null, activations: 3);
        await server.ListenAsync(endPoint, CancellationToken.None);

        Assert.True(await AnswersAsync(client, endpoint, 3));
    }

    [Fact]
    public async Task A_peer_that_restarts_on_its_endpoint_is_reconnected_on_the_next_call()
    {
        (PeerConnections first, string endpoint) = await ListenAsync("first", 1);
        Assert.Equal(1, (await Ask(_client, endpoint).Within()).Activations);

        await first.DisposeAsync();
        PeerConnections second = Start("second", backoff: null, activations: 2);
        (string host, int port) = HostPort.Parse(endpoint, "endpoint", allowPortZero: false);
        await second.ListenAsync(new IPEndPoint(IPAddress.Parse(host), port), CancellationToken.None);

        Assert.True(await AnswersAsync(_client, endpoint, 2));
    }

    [Fact]
    public async Task A_peer_declared_down_has_its_connection_aborted_so_waiting_calls_fail_now_and_the_next_call_connects_afresh()
    {
        (PeerConnections server, string endpoint) = await ListenAsync("server", 5);
        var unanswered = new UnansweredHandler();
        server.Register(ClusterService.Call, unanswered);
        Assert.Equal(5, (await Ask(_client, endpoint).Within()).Activations);
        Task<FramePayload> waiting = _client.RequestAsync(endpoint, ClusterService.Call, ReadOnlyMemory<byte>.Empty, Timeout, CancellationToken.None).AsTask();
        await unanswered.Received.Task.Within();

        _client.OnMemberChanged(endpoint, MembershipChangeKind.Down);

        // Well within the request's 30 s timeout: the abort, not the timeout, ended it.
        await Assert.ThrowsAsync<ConnectionClosedException>(() => waiting).Within(10);
        Assert.Equal(5, (await Ask(_client, endpoint).Within()).Activations);
    }

    [Fact]
    public async Task A_peer_seen_up_again_is_connected_on_the_next_call_despite_a_recent_failure()
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, 40_002);
        string endpoint = HostPort.Format(endPoint);
        PeerConnections client = Start("patient", backoff: TimeSpan.FromMinutes(5));
        await Assert.ThrowsAnyAsync<TransportException>(() => Ask(client, endpoint)).Within();
        PeerConnections server = Start("back", backoff: null, activations: 4);
        await server.ListenAsync(endPoint, CancellationToken.None);
        await Assert.ThrowsAnyAsync<TransportException>(() => Ask(client, endpoint)).Within();

        client.OnMemberChanged(endpoint, MembershipChangeKind.Up);

        Assert.Equal(4, (await Ask(client, endpoint).Within()).Activations);
    }

    [Fact]
    public async Task A_peer_seen_up_again_does_not_wait_for_an_attempt_begun_while_it_was_unreachable()
    {
        (PeerConnections server, string endpoint) = await ListenAsync("server", 6);
        var transport = new HeldTransport(new InMemoryTransport("held", _network));
        PeerConnections client = Start(transport, backoff: TimeSpan.FromMinutes(5), connectTimeout: TimeSpan.FromMinutes(5));
        transport.HoldNext();
        Task<NodeStats> stuck = Ask(client, endpoint);
        await transport.Held.Task.Within();

        client.OnMemberChanged(endpoint, MembershipChangeKind.Up);

        Assert.Equal(6, (await Ask(client, endpoint).Within()).Activations);
        Assert.False(stuck.IsCompleted);

        // The attempt set aside connects after all: its caller is answered, and one of the two connections is closed.
        transport.Release();
        Assert.Equal(6, (await stuck.Within()).Activations);
        Assert.True(await WaitUntilAsync(() => server.InboundConnections == 1), $"{server.InboundConnections} connections stayed open.");
        Assert.Equal(6, (await Ask(client, endpoint).Within()).Activations);
    }

    [Fact]
    public void Registering_a_service_twice_is_refused()
    {
        PeerConnections peers = Start("twice", backoff: null, activations: 0);

        Assert.Throws<InvalidOperationException>(() => peers.Register(ClusterService.Stats, new NodeStatsService(static () => default)));
    }

    /// <summary>Asks until the peer at <paramref name="endpoint"/> answers <paramref name="expected"/> (bounded: 500 tries
    /// 20 ms apart, more than any backoff here), through backoffs and reconnects.</summary>
    private static async Task<bool> AnswersAsync(PeerConnections client, string endpoint, long expected)
    {
        for (int attempt = 0; attempt < 500; attempt++)
        {
            try
            {
                if ((await Ask(client, endpoint)).Activations == expected)
                {
                    return true;
                }
            }
            catch (TransportException)
            {
                // Refused, closed or in its backoff: try again.
            }

            await Task.Delay(20);
        }

        return false;
    }

    /// <summary>Asks the peer at <paramref name="endpoint"/> for its stats, within the test's request timeout.</summary>
    private static Task<NodeStats> Ask(PeerConnections client, string endpoint) =>
        NodeStats.RequestAsync(client, endpoint, Timeout, CancellationToken.None).AsTask();

    /// <summary>Checks <paramref name="condition"/> every 20 ms, at most 500 times.</summary>
    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        for (int attempt = 0; attempt < 500 && !condition(); attempt++)
        {
            await Task.Delay(20);
        }

        return condition();
    }

    private PeerConnections Start(string name, TimeSpan? backoff, long activations = 0) =>
        Start(new InMemoryTransport(name, _network), backoff, connectTimeout: null, activations);

    private PeerConnections Start(ITransport transport, TimeSpan? backoff, TimeSpan? connectTimeout, long activations = 0)
    {
        var options = new PeerConnectionsOptions { ReconnectBackoff = backoff ?? TimeSpan.FromMilliseconds(100) };
        if (connectTimeout is { } limit)
        {
            options.ConnectTimeout = limit;
        }

        var peers = new PeerConnections(transport, new FramedConnectionOptions(), options, _metrics, NullLogger.Instance);
        peers.Register(ClusterService.Stats, new NodeStatsService(() => new NodeStats(activations, 0)));
        _started.Add(peers);
        return peers;
    }

    private async Task<(PeerConnections Server, string Endpoint)> ListenAsync(string name, long activations)
    {
        PeerConnections server = Start(name, backoff: null, activations);
        var bound = (IPEndPoint)await server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        return (server, HostPort.Format(bound));
    }

    /// <summary>A service that takes requests and never answers them.</summary>
    private sealed class UnansweredHandler : IClusterServiceHandler
    {
        public TaskCompletionSource Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask HandleRequestAsync(ReadOnlySequence<byte> payload, IBufferWriter<byte> response, PeerIdentity peer, CancellationToken cancellationToken)
        {
            Received.TrySetResult();
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }

        public ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload, PeerIdentity peer, CancellationToken cancellationToken) => default;
    }

    /// <summary>A transport whose next connection attempt, once asked for, waits until it is released.</summary>
    private sealed class HeldTransport(ITransport inner) : ITransport
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _hold;

        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => inner.Name;

        public void HoldNext() => Volatile.Write(ref _hold, 1);

        public void Release() => _release.TrySetResult();

        public ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken) => inner.ListenAsync(endPoint, cancellationToken);

        public async ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _hold, 0) == 1)
            {
                Held.TrySetResult();
                await _release.Task.WaitAsync(cancellationToken);
            }

            return await inner.ConnectAsync(endPoint, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
