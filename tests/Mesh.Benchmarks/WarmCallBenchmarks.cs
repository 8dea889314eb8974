using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Hosting;

namespace Mesh.Benchmarks;

/// <summary>(a) A call to an actor that is already active on this node, through the generated proxy.</summary>
[MemoryDiagnoser]
[BenchmarkCategory("WarmCall")]
public class WarmCallBenchmarks
{
    private IHost? _host;
    private ICounter _counter = null!;
    private ICounterGrain _grain = null!;

    [GlobalSetup(Target = nameof(Mesh))]
    public async Task SetupMeshAsync()
    {
        _host = await Nodes.StartMeshAsync();
        _counter = _host.Mesh().GetActor<ICounter>("warm");
        await _counter.IncrementAsync(0);
    }

    [GlobalSetup(Target = nameof(Orleans))]
    public async Task SetupOrleansAsync()
    {
        _host = await Nodes.StartOrleansAsync();
        _grain = _host.Grains().GetGrain<ICounterGrain>("warm");
        await _grain.IncrementAsync(0);
    }

    [GlobalCleanup]
    public Task CleanupAsync() => Nodes.StopAsync(_host);

    /// <summary>Returns the counter's new value.</summary>
    [Benchmark]
    public async ValueTask<int> Mesh() => await _counter.IncrementAsync();

    /// <summary>Returns the counter's new value.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<int> Orleans() => await _grain.IncrementAsync(1);
}
