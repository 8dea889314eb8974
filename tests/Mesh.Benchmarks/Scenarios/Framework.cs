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

    private protected Framework(IHost host) => _host = host;

    public abstract string Name { get; }

    /// <summary>Starts a node of <paramref name="name"/>. Only one node per framework exists so far.</summary>
    public static async Task<Framework> StartAsync(string name, int nodes)
    {
        if (nodes != 1)
        {
            throw new NotSupportedException("Multi-node scenarios need the cluster, which this tree does not have yet.");
        }

        return name switch
        {
            MeshName => new MeshFramework(await StartMeshHostAsync().ConfigureAwait(false)),
            OrleansName => new OrleansFramework(await Nodes.StartOrleansAsync().ConfigureAwait(false)),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown framework."),
        };
    }

    /// <summary>Resolves the reference of actor <paramref name="id"/> of <paramref name="kind"/> and adds <paramref name="by"/>.</summary>
    public abstract ValueTask<int> IncrementAsync(ActorKind kind, string id, int by = 1);

    /// <summary>Resolves the counter <paramref name="id"/> once, for a caller that keeps the reference.</summary>
    public abstract HeldActor Hold(string id);

    /// <summary>Gets the number of live activations of the node (for Orleans, including its own system grains).</summary>
    public abstract ValueTask<int> CountActivationsAsync();

    public ValueTask DisposeAsync() => new(Nodes.StopAsync(_host));

    private static async Task<IHost> StartMeshHostAsync()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
        builder.Services.AddMesh(static mesh => mesh.WithCapabilities("counter", "tally", "gauge"));
        IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    private sealed class MeshFramework(IHost host) : Framework(host)
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

        public override ValueTask<int> CountActivationsAsync() => new(((MeshRuntime)_mesh).ActivationCount);

        private sealed class MeshHeld(ICounter counter) : HeldActor
        {
            public override ValueTask<int> IncrementAsync(int by = 1) => counter.IncrementAsync(by);
        }
    }

    private sealed class OrleansFramework(IHost host) : Framework(host)
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
