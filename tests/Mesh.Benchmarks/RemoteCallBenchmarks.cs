using System.Collections.Immutable;
using System.Net;
using BenchmarkDotNet.Attributes;
using Mesh.Membership;
using Mesh.Messaging;
using Mesh.Runtime;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Quic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Benchmarks;

/// <summary>
/// Sequential calls to an actor that is active on another node: two Mesh nodes in this process, wired by
/// <see cref="PeerConnections"/>. Over the in-memory transport the figure is the runtime's own cost (envelope,
/// serialization, framing, correlation, the owner's mailbox turn, the answer and the thread hops between them) without a
/// network's; over QUIC it adds the real transport on loopback (TLS 1.3, the native library, UDP).
/// </summary>
/// <remarks>Each invocation awaits <see cref="Calls"/> calls one after another, so the allocation column is the calls'
/// own: BenchmarkDotNet's wait for an invocation that completes asynchronously allocates about 200 bytes, which it
/// charged to every call when each invocation was a single call.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory("RemoteCall")]
public class RemoteCallBenchmarks
{
    /// <summary>Sequential calls per invocation.</summary>
    public const int Calls = 100;

    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly List<(IHost Host, PeerConnections Peers, ITransport Transport)> _nodes = [];
    private ICounter _counter = null!;

    /// <summary>Gets or sets the transport between the two nodes.</summary>
    [Params("memory", "quic")]
    public string Transport { get; set; } = "memory";

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var members = new List<MeshNode>();
        for (int i = 0; i < 2; i++)
        {
            IHost host = await Nodes.StartMeshAsync();
            MeshRuntime runtime = host.Services.GetRequiredService<MeshRuntime>();
            ITransport transport = CreateTransport(i);
            var peers = new PeerConnections(transport, new FramedConnectionOptions(), null, _metrics, NullLogger.Instance);
            peers.Register(ClusterService.Call, new CallService(runtime, NullLogger.Instance));
            var bound = (IPEndPoint)await peers.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
            runtime.Network = peers;
            _nodes.Add((host, peers, transport));
            MeshNode self = runtime.Self;
            members.Add(new MeshNode(self.Name, self.Incarnation, HostPort.Format(bound), self.Capabilities, MeshNodeStatus.Up));
        }

        foreach ((IHost host, _, _) in _nodes)
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
        foreach ((IHost host, PeerConnections peers, ITransport transport) in _nodes)
        {
            await Nodes.StopAsync(host);
            await peers.DisposeAsync();
            await transport.DisposeAsync();
        }

        _metrics.Dispose();
    }

    /// <summary>Returns the remote counter's value after <see cref="Calls"/> sequential calls.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public async Task<int> Mesh()
    {
        int value = 0;
        for (int i = 0; i < Calls; i++)
        {
            value = await _counter.IncrementAsync();
        }

        return value;
    }

    private ITransport CreateTransport(int node)
    {
        if (Transport == "memory")
        {
            return new InMemoryTransport("bench" + node, _network);
        }

        (TransportCredentials first, TransportCredentials second) = TransportBenchmarkBase.BenchmarkCertificates.Create();
        return new QuicTransport(node == 0 ? first : second, _metrics, NullLogger.Instance);
    }
}
