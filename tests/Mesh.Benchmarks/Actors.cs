using Mesh;
using Orleans;

namespace Mesh.Benchmarks;

// The same counter twice: once as a Mesh actor, once as an Orleans grain. Both keep an int in memory and answer
// synchronously, so the benchmarks measure the frameworks, not the actor.

/// <summary>The Mesh counter contract.</summary>
[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);

    /// <summary>Holds the actor's turn until <see cref="Gate"/> opens, then returns the current value.</summary>
    ValueTask<int> HoldAsync();

    /// <summary>Asks the runtime to deactivate this actor once the current turn ends.</summary>
    ValueTask DeactivateAsync();
}

public sealed class Counter(IActorContext context) : ICounter
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);

    public async ValueTask<int> HoldAsync()
    {
        await Gate.WaitAsync().ConfigureAwait(false);
        return _value;
    }

    public ValueTask DeactivateAsync()
    {
        context.DeactivateOnIdle();
        return default;
    }
}

/// <summary>The Orleans counter contract: the same methods as <see cref="ICounter"/>.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    ValueTask<int> IncrementAsync(int by);

    ValueTask<int> HoldAsync();

    ValueTask DeactivateAsync();
}

public sealed class CounterGrain : Grain, ICounterGrain
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by) => new(_value += by);

    public async ValueTask<int> HoldAsync()
    {
        // No ConfigureAwait(false): an Orleans grain resumes on its activation's scheduler.
        await Gate.WaitAsync();
        return _value;
    }

    public ValueTask DeactivateAsync()
    {
        DeactivateOnIdle();
        return default;
    }
}

/// <summary>
/// A gate the <c>HoldAsync</c> methods wait on: the concurrency scenario closes it, makes one call that holds the
/// actor's turn, queues its burst of calls behind it, then opens it.
/// </summary>
public static class Gate
{
    private static TaskCompletionSource s_gate = NewGate();

    public static Task WaitAsync() => Volatile.Read(ref s_gate).Task;

    public static void Close() => Volatile.Write(ref s_gate, NewGate());

    public static void Open() => Volatile.Read(ref s_gate).TrySetResult();

    private static TaskCompletionSource NewGate()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return gate;
    }
}
