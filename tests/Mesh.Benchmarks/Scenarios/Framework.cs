using Mesh.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>The three actor types of the spread scenario; every other scenario uses <see cref="Counter"/>.</summary>
internal enum ActorKind
{
    Counter,
    Tally,
    Gauge,
}

/// <summary>
/// One started node of one framework, as the scenarios see it. Both implementations do the same thing per call:
/// resolve a reference (<c>GetActor</c> / <c>GetGrain</c>) and call <c>IncrementAsync</c> on it, or call a reference
/// resolved once (<see cref="Hold"/>). Both pay the same virtual call here, so the layer adds nothing to the difference.
/// </summary>
internal abstract class Framework : IAsyncDisposable
{
    public const string MeshName = "Mesh";
    public const string OrleansName = "Orleans";

    private readonly IHost _host;
    private readonly IReadOnlyList<NodeProcess> _remoteNodes;

    private protected Framework(IHost host, IReadOnlyList<NodeProcess>? remoteNodes = null)
    {
        _host = host;
        _remoteNodes = remoteNodes ?? [];
    }

    public abstract string Name { get; }

    /// <summary>Starts <paramref name="nodes"/> nodes of <paramref name="name"/>. One node runs in this process and serves
    /// the calls itself; with more, <paramref name="nodes"/> - 1 serving nodes run in their own processes on loopback and
    /// this process only calls them (a Mesh node without capabilities, an Orleans client), so every call crosses nodes.</summary>
    /// <param name="transport">How Mesh nodes talk to each other when there are several.</param>
    public static async Task<Framework> StartAsync(string name, int nodes, MeshTransport transport = MeshTransport.Quic)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        if (nodes == 1)
        {
            return name switch
            {
                MeshName => new MeshFramework(await StartMeshHostAsync().ConfigureAwait(false)),
                OrleansName => new OrleansFramework(await Nodes.StartOrleansAsync().ConfigureAwait(false)),
                _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown framework."),
            };
        }

        return name switch
        {
            MeshName => await StartMeshClusterAsync(nodes - 1, transport).ConfigureAwait(false),
            OrleansName => await StartOrleansClusterAsync(nodes - 1).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown framework."),
        };
    }

    /// <summary>Resolves the reference of actor <paramref name="id"/> of <paramref name="kind"/> and adds <paramref name="by"/>.</summary>
    public abstract ValueTask<int> IncrementAsync(ActorKind kind, string id, int by = 1);

    /// <summary>Resolves the counter <paramref name="id"/> once, for a caller that keeps the reference.</summary>
    public abstract HeldActor Hold(string id);

    /// <summary>Gets the number of live activations of the node (for Orleans, including its own system grains).</summary>
    public abstract ValueTask<int> CountActivationsAsync();

    public async ValueTask DisposeAsync()
    {
        await Nodes.StopAsync(_host).ConfigureAwait(false);
        foreach (NodeProcess node in _remoteNodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<NodeProcess[]> StartRemoteNodesAsync(int count, Func<int, string[]> arguments)
    {
        var started = new List<NodeProcess>(count);
        try
        {
            // The first node is the others' seed (Orleans: primary silo), so it starts alone; the rest start together.
            started.Add(await NodeProcess.StartAsync(arguments(0)).ConfigureAwait(false));
            Task<NodeProcess>[] rest = [.. Enumerable.Range(1, count - 1).Select(i => NodeProcess.StartAsync(arguments(i)))];
            foreach (Task<NodeProcess> node in rest)
            {
                started.Add(await node.ConfigureAwait(false));
            }

            return [.. started];
        }
        catch
        {
            foreach (NodeProcess node in started)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task<Framework> StartOrleansClusterAsync(int silos)
    {
        int[] siloPorts = [.. Enumerable.Range(0, silos).Select(static _ => Nodes.FreePort())];
        int[] gatewayPorts = [.. Enumerable.Range(0, silos).Select(static _ => Nodes.FreePort())];
        NodeProcess[] remote = await StartRemoteNodesAsync(silos, i => [OrleansName, $"{siloPorts[i]}", $"{gatewayPorts[i]}", $"{siloPorts[0]}"]).ConfigureAwait(false);
        try
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error).AddConsole();
            builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPorts, Nodes.ServiceId, Nodes.ClusterId));
            IHost host = builder.Build();
            await host.StartAsync().ConfigureAwait(false);
            return new OrleansFramework(host, remote);
        }
        catch
        {
            foreach (NodeProcess node in remote)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task<Framework> StartMeshClusterAsync(int servers, MeshTransport transport)
    {
        string[] endpoints = [.. Enumerable.Range(0, servers).Select(static _ => $"127.0.0.1:{Nodes.FreePort()}")];
        NodeProcess[] remote = await StartRemoteNodesAsync(servers, i => [MeshName, endpoints[i], endpoints[0], transport.ToString()]).ConfigureAwait(false);
        try
        {
            HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
            builder.Services.AddMesh(mesh => mesh.ListenOn($"127.0.0.1:{Nodes.FreePort()}").UseSeeds(endpoints[0]).WithNodeName("bench-caller").Configure(o => o.Transport = transport));
            IHost host = builder.Build();
            await host.StartAsync().ConfigureAwait(false);
            IMesh mesh = host.Mesh();
            long deadline = Environment.TickCount64 + 60_000;
            foreach (string capability in (string[])["counter", "tally", "gauge"])
            {
                while (mesh.NodesFor(capability).Count < servers)
                {
                    if (Environment.TickCount64 > deadline)
                    {
                        throw new TimeoutException($"The caller saw {mesh.NodesFor(capability).Count} of {servers} nodes serving '{capability}' after 60 s.");
                    }

                    await Task.Delay(20).ConfigureAwait(false);
                }
            }

            return new MeshFramework(host, remote);
        }
        catch
        {
            foreach (NodeProcess node in remote)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private static async Task<IHost> StartMeshHostAsync()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
        builder.Services.AddMesh(static mesh => mesh.WithCapabilities("counter", "tally", "gauge"));
        IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    private sealed class MeshFramework(IHost host, IReadOnlyList<NodeProcess>? remote = null) : Framework(host, remote)
    {
        private readonly IMesh _mesh = host.Mesh();

        public override string Name => MeshName;

        public override ValueTask<int> IncrementAsync(ActorKind kind, string id, int by = 1) => kind switch
        {
            ActorKind.Counter => _mesh.GetActor<ICounter>(id).IncrementAsync(by),
            ActorKind.Tally => _mesh.GetActor<ITally>(id).IncrementAsync(by),
            _ => _mesh.GetActor<IGauge>(id).IncrementAsync(by),
        };

        public override HeldActor Hold(string id) => new MeshHeld(_mesh.GetActor<ICounter>(id));

        public override async ValueTask<int> CountActivationsAsync()
        {
            var runtime = (MeshRuntime)_mesh;
            long total = runtime.ActivationCount;
            if (runtime.Network is not { } network)
            {
                return (int)total;
            }

            // Multi-node: the serving nodes hold the activations; ask each over the cluster's Stats service.
            foreach (MeshNode member in runtime.Members)
            {
                if (member.Status == MeshNodeStatus.Up && member.Endpoint is { } endpoint && !member.Equals(runtime.Self))
                {
                    Messaging.NodeStats stats = await Messaging.NodeStats.RequestAsync(network, endpoint, TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
                    total += stats.Activations;
                }
            }

            return (int)total;
        }

        private sealed class MeshHeld(ICounter counter) : HeldActor
        {
            public override ValueTask<int> IncrementAsync(int by = 1) => counter.IncrementAsync(by);
        }
    }

    private sealed class OrleansFramework(IHost host, IReadOnlyList<NodeProcess>? remote = null) : Framework(host, remote)
    {
        private readonly IGrainFactory _grains = host.Grains();

        public override string Name => OrleansName;

        public override ValueTask<int> IncrementAsync(ActorKind kind, string id, int by = 1) => kind switch
        {
            ActorKind.Counter => _grains.GetGrain<ICounterGrain>(id).IncrementAsync(by),
            ActorKind.Tally => _grains.GetGrain<ITallyGrain>(id).IncrementAsync(by),
            _ => _grains.GetGrain<IGaugeGrain>(id).IncrementAsync(by),
        };

        public override HeldActor Hold(string id) => new OrleansHeld(_grains.GetGrain<ICounterGrain>(id));

        public override async ValueTask<int> CountActivationsAsync()
            => await _grains.GetGrain<Orleans.Runtime.IManagementGrain>(0).GetTotalActivationCount().ConfigureAwait(false);

        private sealed class OrleansHeld(ICounterGrain grain) : HeldActor
        {
            public override ValueTask<int> IncrementAsync(int by = 1) => grain.IncrementAsync(by);
        }
    }
}

/// <summary>A counter reference resolved once and kept by its caller.</summary>
internal abstract class HeldActor
{
    public abstract ValueTask<int> IncrementAsync(int by = 1);
}
