using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Hosting;

namespace Mesh.Benchmarks;

/// <summary>
/// (d) A burst of <see cref="Burst"/> concurrent calls to one busy actor. One call holds the actor's turn (it waits on
/// <see cref="Gate"/>), the burst queues behind it, then the gate opens and the mailbox drains. Without the held turn a
/// Mesh call to an idle actor would run inline on the caller's thread; this scenario measures the queued path instead:
/// enqueue, drain on the thread pool, complete each caller.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("ConcurrentCalls")]
public class ConcurrentCallsBenchmarks
{
    public const int Burst = 1_000;

    private readonly ValueTask<int>[] _meshCalls = new ValueTask<int>[Burst];
    private readonly ValueTask<int>[] _orleansCalls = new ValueTask<int>[Burst];
    private IHost? _host;
    private ICounter _counter = null!;
    private ICounterGrain _grain = null!;

    /// <summary>Gets whether the last burst's answers were exactly the values <c>held + 1 .. held + Burst</c>.</summary>
    public bool LastBurstWasConsistent { get; private set; }

    [GlobalSetup(Target = nameof(Mesh))]
    public async Task SetupMeshAsync()
    {
        _host = await Nodes.StartMeshAsync();
        _counter = _host.Mesh().GetActor<ICounter>("busy");
        await _counter.IncrementAsync(0);
    }

    [GlobalSetup(Target = nameof(Orleans))]
    public async Task SetupOrleansAsync()
    {
        _host = await Nodes.StartOrleansAsync();
        _grain = _host.Grains().GetGrain<ICounterGrain>("busy");
        await _grain.IncrementAsync(0);
    }

    [GlobalCleanup]
    public Task CleanupAsync() => Nodes.StopAsync(_host);

    /// <summary>Returns the counter's value after the burst.</summary>
    [Benchmark(OperationsPerInvoke = Burst)]
    public async Task<int> Mesh()
    {
        Gate.Close();
        ValueTask<int> held = _counter.HoldAsync();
        for (int i = 0; i < _meshCalls.Length; i++)
        {
            _meshCalls[i] = _counter.IncrementAsync();
        }

        Gate.Open();
        return Check(await held, await WhenAll(_meshCalls));
    }

    /// <summary>Returns the counter's value after the burst.</summary>
    [Benchmark(OperationsPerInvoke = Burst, Baseline = true)]
    public async Task<int> Orleans()
    {
        Gate.Close();
        ValueTask<int> held = _grain.HoldAsync();
        for (int i = 0; i < _orleansCalls.Length; i++)
        {
            _orleansCalls[i] = _grain.IncrementAsync(1);
        }

        Gate.Open();
        return Check(await held, await WhenAll(_orleansCalls));
    }

    private static async ValueTask<(long Sum, int Max)> WhenAll(ValueTask<int>[] calls)
    {
        long sum = 0;
        int max = int.MinValue;
        for (int i = 0; i < calls.Length; i++)
        {
            int value = await calls[i];
            sum += value;
            max = Math.Max(max, value);
            calls[i] = default;
        }

        return (sum, max);
    }

    private int Check(int held, (long Sum, int Max) answers)
    {
        // Each call saw a distinct value after the held one: the answers are held+1 .. held+Burst in some order.
        long expectedSum = ((long)held * Burst) + ((long)Burst * (Burst + 1) / 2);
        LastBurstWasConsistent = answers.Sum == expectedSum && answers.Max == held + Burst;
        return answers.Max;
    }
}
