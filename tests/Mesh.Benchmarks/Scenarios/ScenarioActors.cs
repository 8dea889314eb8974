using Orleans;

namespace Mesh.Benchmarks.Scenarios;

// The "spread" scenario calls three actor types, each its own Mesh capability: the existing counter (ICounter /
// ICounterGrain) and the two below. All three do the same work: add to an int in memory and return it.

/// <summary>The second actor type of the spread scenario (capability <c>tally</c>).</summary>
[MeshActor("tally")]
public interface ITally : IMeshActor
{
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);
}

public sealed class Tally : ITally
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);
}

/// <summary>The third actor type of the spread scenario (capability <c>gauge</c>).</summary>
[MeshActor("gauge")]
public interface IGauge : IMeshActor
{
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);
}

public sealed class Gauge : IGauge
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);
}

/// <summary>The Orleans twin of <see cref="ITally"/>.</summary>
public interface ITallyGrain : IGrainWithStringKey
{
    ValueTask<int> IncrementAsync(int by);
}

public sealed class TallyGrain : Grain, ITallyGrain
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by) => new(_value += by);
}

/// <summary>The Orleans twin of <see cref="IGauge"/>.</summary>
public interface IGaugeGrain : IGrainWithStringKey
{
    ValueTask<int> IncrementAsync(int by);
}

public sealed class GaugeGrain : Grain, IGaugeGrain
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by) => new(_value += by);
}
