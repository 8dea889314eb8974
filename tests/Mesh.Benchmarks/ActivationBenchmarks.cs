using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Hosting;

namespace Mesh.Benchmarks;

/// <summary>
/// (b) The first call to an id: each operation gets a proxy for an id never used before and calls it, so the figure
/// is the cost of one activation plus one call. Every iteration activates <see cref="Batch"/> fresh actors and
/// deactivates them again in the iteration cleanup (not measured, and waiting until they are gone), so memory stays
/// bounded however long the run is and no deactivation runs during a measured iteration.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Activation")]
public class ActivationBenchmarks
{
    public const int Batch = 10_000;

    private static int s_round;
    private readonly string[] _ids = new string[Batch];
    private IHost? _host;
    private MeshActivationCounter? _meshActivations;
    private IMesh _mesh = null!;
    private Orleans.IGrainFactory _grains = null!;

    [GlobalSetup(Target = nameof(Mesh))]
    public async Task SetupMeshAsync()
    {
        _meshActivations = new MeshActivationCounter();
        _host = await Nodes.StartMeshAsync();
        _mesh = _host.Mesh();
        await _mesh.GetActor<ICounter>("warmup").IncrementAsync();
    }

    [GlobalSetup(Target = nameof(Orleans))]
    public async Task SetupOrleansAsync()
    {
        _host = await Nodes.StartOrleansAsync();
        _grains = _host.Grains();
        await _grains.GetGrain<ICounterGrain>("warmup").IncrementAsync(1);
    }

    /// <summary>Gets the Mesh activations and deactivations counted since the Mesh setup.</summary>
    public MeshActivationCounter? MeshActivations => _meshActivations;

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await Nodes.StopAsync(_host);
        _meshActivations?.Dispose();
    }

    [IterationSetup]
    public void NewIds()
    {
        int round = Interlocked.Increment(ref s_round);
        for (int i = 0; i < _ids.Length; i++)
        {
            _ids[i] = $"a{round}_{i}";
        }
    }

    [IterationCleanup(Target = nameof(Mesh))]
    public void DeactivateMesh()
    {
        foreach (string id in _ids)
        {
            _mesh.GetActor<ICounter>(id).DeactivateAsync().AsTask().GetAwaiter().GetResult();
        }

        // Only the warm-up actor stays.
        WaitUntil(() => _meshActivations!.Live <= 1);
    }

    [IterationCleanup(Target = nameof(Orleans))]
    public void DeactivateOrleans()
    {
        foreach (string id in _ids)
        {
            _grains.GetGrain<ICounterGrain>(id).DeactivateAsync().AsTask().GetAwaiter().GetResult();
        }

        // The warm-up grain and Orleans' own system grains stay.
        WaitUntil(() => CountOrleansActivationsAsync().GetAwaiter().GetResult() < 100);
    }

    private static void WaitUntil(Func<bool> condition)
    {
        long deadline = Environment.TickCount64 + 30_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("The actors of the last iteration were not deactivated within 30 seconds.");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary>Counts the grain activations of the silo (for the smoke checks).</summary>
    public Task<int> CountOrleansActivationsAsync() => _grains.GetGrain<global::Orleans.Runtime.IManagementGrain>(0).GetTotalActivationCount();

    /// <summary>Returns the sum of the counters, <see cref="Batch"/> when every actor was new.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task<int> Mesh()
    {
        int sum = 0;
        foreach (string id in _ids)
        {
            sum += await _mesh.GetActor<ICounter>(id).IncrementAsync();
        }

        return sum;
    }

    /// <summary>Returns the sum of the counters, <see cref="Batch"/> when every grain was new.</summary>
    [Benchmark(OperationsPerInvoke = Batch, Baseline = true)]
    public async Task<int> Orleans()
    {
        int sum = 0;
        foreach (string id in _ids)
        {
            sum += await _grains.GetGrain<ICounterGrain>(id).IncrementAsync(1);
        }

        return sum;
    }
}
