using Mesh;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A user's first program, built against the packed Mesh.Sdk only.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Services.AddMesh(mesh => mesh.WithCapabilities("counter"));
using IHost host = builder.Build();
await host.StartAsync();

ICounter counter = host.Services.GetRequiredService<IMesh>().GetActor<ICounter>("counter_1");
await counter.IncrementAsync();
await counter.IncrementAsync();
Console.WriteLine($"counter_1 = {await counter.IncrementAsync()}");

await host.StopAsync();

[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);
}

public sealed class Counter : ICounter
{
    private int _value;

    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);
}
