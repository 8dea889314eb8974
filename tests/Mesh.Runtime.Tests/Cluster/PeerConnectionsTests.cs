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

        NodeStats[] answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => NodeStats.RequestAsync(_client, endpoint, Timeout, CancellationToken.None).AsTask())).Within();

        Assert.All(answers, a => Assert.Equal(7, a.Activations));
        Assert.Equal(1, server.InboundConnections);
    }

    [Fact]
    public async Task A_peer_that_cannot_be_reached_fails_calls_at_once_until_the_backoff_ends_then_is_connected()
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, 40_001);
        string endpoint = HostPort.Format(endPoint);

        await Assert.ThrowsAnyAsync<TransportException>(() => NodeStats.RequestAsync(_client, endpoint, Timeout, CancellationToken.None).AsTask()).Within();
        TransportException fast = await Assert.ThrowsAnyAsync<TransportException>(() => NodeStats.RequestAsync(_client, endpoint, Timeout, CancellationToken.None).AsTask()).Within();
        Assert.Contains("could not be reached recently", fast.Message, StringComparison.Ordinal);

        PeerConnections server = Start("late", backoff: null, activations: 3);
        await server.ListenAsync(endPoint, CancellationToken.None);

        Assert.True(await AnswersAsync(endpoint, 3));
    }

    [Fact]
    public async Task A_peer_that_restarts_on_its_endpoint_is_reconnected_on_the_next_call()
    {
        (PeerConnections first, string endpoint) = await ListenAsync("first", 1);
        Assert.Equal(1, (await NodeStats.RequestAsync(_client, endpoint, Timeout, CancellationToken.None).AsTask().Within()).Activations);

        await first.DisposeAsync();
        PeerConnections second = Start("second", backoff: null, activations: 2);
        (string host, int port) = HostPort.Parse(endpoint, "endpoint", allowPortZero: false);
        await second.ListenAsync(new IPEndPoint(IPAddress.Parse(host), port), CancellationToken.None);

        Assert.True(await AnswersAsync(endpoint, 2));
    }

    [Fact]
    public void Registering_a_service_twice_is_refused()
    {
        PeerConnections peers = Start("twice", backoff: null, activations: 0);

        Assert.Throws<InvalidOperationException>(() => peers.Register(ClusterService.Stats, new NodeStatsService(static () => default)));
    }

    /// <summary>Asks until the peer at <paramref name="endpoint"/> answers <paramref name="expected"/> (bounded: 500 tries
    /// 20 ms apart), through backoffs and reconnects.</summary>
    private async Task<bool> AnswersAsync(string endpoint, long expected)
    {
        for (int attempt = 0; attempt < 500; attempt++)
        {
            try
            {
                if ((await NodeStats.RequestAsync(_client, endpoint, Timeout, CancellationToken.None)).Activations == expected)
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

    private PeerConnections Start(string name, TimeSpan? backoff, long activations = 0)
    {
        var peers = new PeerConnections(
            new InMemoryTransport(name, _network),
            new FramedConnectionOptions(),
            new PeerConnectionsOptions { ReconnectBackoff = backoff ?? TimeSpan.FromMilliseconds(100) },
            _metrics,
            NullLogger.Instance);
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
}
