using System.Collections.Immutable;
using System.Net;
using BenchmarkDotNet.Attributes;
using Mesh.Membership;
using Mesh.Messaging;
using Mesh.Runtime;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Benchmarks;

/// <summary>
/// A call to an actor that is active on another node: two Mesh nodes in this process, wired by
/// <see cref="PeerConnections"/> over the in-memory transport, so the figure is the runtime's own cost (envelope,
/// serialization, framing, correlation, the owner's mailbox turn and the answer) without a network's.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("RemoteCall")]
public class RemoteCallBenchmarks
{
    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly List<(IHost Host, PeerConnections Peers)> _nodes = [];
    private ICounter _counter = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var members = new List<MeshNode>();
        for (int i = 0; i < 2; i++)
        {
            IHost host = await Nodes.StartMeshAsync();
            MeshRuntime runtime = host.Services.GetRequiredService<MeshRuntime>();
            var peers = new PeerConnections(new InMemoryTransport("bench" + i, _network), new FramedConnectionOptions(), null, _metrics, NullLogger.Instance);
            peers.Register(ClusterService.Call, new CallService(runtime, NullLogger.Instance));
            var bound = (IPEndPoint)await peers.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
            runtime.Network = peers;
            _nodes.Add((host, peers));
            MeshNode self = runtime.Self;
            members.Add(new MeshNode(self.Name, self.Incarnation, HostPort.Format(bound), self.Capabilities, MeshNodeStatus.Up));
        }

        foreach ((IHost host, _) in _nodes)
        {
            MeshRuntime runtime = host.Services.GetRequiredService<MeshRuntime>();
            MeshNode self = members.First(m => m.Name == runtime.Self.Name);
            runtime.ApplyMembership(new MembershipSnapshot(1, self, [.. members]), []);
        }

        MeshRuntime caller = _nodes[0].Host.Services.GetRequiredService<MeshRuntime>();
        string key = Enumerable.Range(0, 10_000).Select(i => "remote-" + i).First(k => caller.OwnerOf("counter", k)!.Name != caller.Self.Name);
        _counter = caller.GetActor<ICounter>(key);
        await _counter.IncrementAsync(0);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach ((IHost host, PeerConnections peers) in _nodes)
        {
            await Nodes.StopAsync(host);
            await peers.DisposeAsync();
        }

        _metrics.Dispose();
    }

    /// <summary>Returns the remote counter's new value.</summary>
    [Benchmark]
    public ValueTask<int> Mesh() => _counter.IncrementAsync();
}
