using System.Collections.Immutable;
using System.Net;
using Mesh.Membership;
using Mesh.Messaging;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>One node of an in-process cluster: a real host (<see cref="TestNode"/>) whose runtime is wired to its peers
/// by <see cref="PeerConnections"/> over the transport the test gives, the way the hosted service wires it. Views are
/// applied by the test (<see cref="TestCluster.ApplyView"/>), not by gossip.</summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    private long _viewVersion;

    private ClusterNode(TestNode node, ITransport transport, PeerConnections peers, CallService calls, string endpoint, TransportMetrics metrics)
    {
        Node = node;
        Transport = transport;
        Peers = peers;
        Calls = calls;
        Endpoint = endpoint;
        Metrics = metrics;
    }

    public TestNode Node { get; }

    public ITransport Transport { get; }

    public PeerConnections Peers { get; }

    public CallService Calls { get; }

    public TransportMetrics Metrics { get; }

    public string Endpoint { get; }

    public MeshRuntime Runtime => Node.Runtime;

    public IMesh Mesh => Node.Mesh;

    public Probe Probe => Node.Probe;

    public string Name => Runtime.Self.Name;

    /// <summary>This node as members see it: up, with its endpoint and capabilities.</summary>
    public MeshNode Member(MeshNodeStatus status = MeshNodeStatus.Up)
    {
        MeshNode self = Runtime.Self;
        return new MeshNode(self.Name, self.Incarnation, Endpoint, self.Capabilities, status);
    }

    public static async Task<ClusterNode> StartAsync(string[] capabilities, ITransport transport, Dictionary<string, string?>? configuration = null)
    {
        TestNode node = await TestNode.StartAsync(capabilities, configuration);
        var metrics = new TransportMetrics();
        var peers = new PeerConnections(transport, new FramedConnectionOptions { RequestTimeout = TimeSpan.FromMinutes(1) }, new PeerConnectionsOptions { ReconnectBackoff = TimeSpan.FromMilliseconds(200) }, metrics, NullLogger.Instance);
        var calls = new CallService(node.Runtime, NullLogger.Instance);
        peers.Register(ClusterService.Call, calls);
        EndPoint bound = await peers.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        node.Runtime.Network = peers;
        return new ClusterNode(node, transport, peers, calls, HostPort.Format((IPEndPoint)bound), metrics);
    }

    /// <summary>Makes this node see <paramref name="members"/>; it sees itself up unless they say otherwise.</summary>
    public void See(params MeshNode[] members)
    {
        long version = Interlocked.Increment(ref _viewVersion);
        MeshNode self = members.FirstOrDefault(m => m.Name == Name) ?? Member();
        ImmutableArray<MeshNode> all = [.. members.Where(m => m.Name != self.Name), self];
        Runtime.ApplyMembership(new MembershipSnapshot(version, self, all), []);
    }

    /// <summary>Stops the node as the hosted service would: runtime first (in-flight calls finish, new ones are refused),
    /// then the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        await Node.StopAsync();
        await Peers.DisposeAsync();
        await Transport.DisposeAsync();
        await Node.DisposeAsync();
        Metrics.Dispose();
    }
}
