using Mesh;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The quick start: one node, one actor contract, a few calls.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddMesh(mesh => mesh.WithCapabilities("counter"));

using IHost host = builder.Build();
await host.StartAsync();

IMesh mesh = host.Services.GetRequiredService<IMesh>();
ICounter counter = mesh.GetActor<ICounter>("counter_1");

int n = 0;
for (int i = 0; i < 3; i++)
{
    n = await counter.IncrementAsync();
}

Console.WriteLine($"counter_1 = {n}");
Console.WriteLine($"counter_1 + 10 = {await counter.IncrementAsync(10)}");
await counter.ResetAsync();
Console.WriteLine($"after reset, counter_1 + 1 = {await counter.IncrementAsync()}");
Console.WriteLine($"counter_2 = {await mesh.GetActor<ICounter>("counter_2").IncrementAsync(5)}");

await host.StopAsync();
return 0;

/// <summary>A counter actor: the contract every node can call.</summary>
[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    /// <summary>Adds <paramref name="by"/> and returns the new value.</summary>
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);

    /// <summary>Sets the counter back to zero (fire-and-forget).</summary>
    [OneWay]
    ValueTask ResetAsync();
}

/// <summary>The counter's implementation: plain state, one message at a time.</summary>
public sealed class Counter(IActorContext context) : ICounter
{
    private int _value;

    /// <summary>Gets the actor's id.</summary>
    public ActorId Id => context.Id;

    /// <inheritdoc/>
    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);

    /// <inheritdoc/>
    public ValueTask ResetAsync()
    {
        _value = 0;
        return ValueTask.CompletedTask;
    }
}
