using Mesh.Transport.Memory;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>The conformance suite over the in-memory transport; each test gets its own <see cref="InMemoryNetwork"/>.</summary>
public sealed class InMemoryConformanceTests : TransportConformanceTests
{
    protected override string PeerTransportName => "memory";

    protected override ValueTask<TransportPair> CreatePairAsync()
    {
        var network = new InMemoryNetwork();
        return ValueTask.FromResult(new TransportPair(
            new InMemoryTransport("server", network),
            new InMemoryTransport("client", network),
            new TransportMetrics(),
            new TransportMetrics()));
    }

    /// <summary>An in-memory client has no address: the accepted side reports none.</summary>
    private protected override void AssertInboundRemoteEndPoint(System.Net.EndPoint? remote, System.Net.EndPoint listening) => Assert.Null(remote);

    /// <summary>The in-memory transport cannot live in another process, so the peer is an echo node in this process and
    /// "killing" it resets all its transport connections from below the framing layer (what the death of its process
    /// does to its sockets): nothing is closed gracefully, nothing more is answered.</summary>
    protected override async Task<KillablePeer> StartKillablePeerAsync(TransportPair pair) =>
        new InProcessPeer(await FramedNode.StartAsync(pair.Server, ListenEndPoint, EchoHandler.Instance, Options(), pair.ServerMetrics, NullLogger.Instance));

    private sealed class InProcessPeer(FramedNode node) : KillablePeer
    {
        public override System.Net.EndPoint EndPoint => node.EndPoint;

        public override void Kill() => node.AbortTransportConnections("peer killed");

        public override ValueTask DisposeAsync() => node.DisposeAsync();
    }
}
