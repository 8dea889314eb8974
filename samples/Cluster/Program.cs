using Mesh;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// One node of a cluster. Start it several times (README.md): every node serves "counter", every node increments the same
// three counters once a second, and each counter lives on exactly one node, whichever node calls it.
//
//   --listen 127.0.0.1:7401             where this node listens for the others (ListenOn)
//   --seeds 127.0.0.1:7401,127.0.0.1:7402  nodes to join through (UseSeeds); listing this node's own address is fine
//   --name node1                        this node's name in the cluster (WithNodeName)
//
// Without them, everything comes from configuration: Mesh:Endpoint, Mesh:Seeds:0, Mesh:DnsDiscovery:Host, ...
// (environment variables Mesh__Endpoint, ... in a container: see samples/Kubernetes).
HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
string? listen = builder.Configuration["listen"];
string? seeds = builder.Configuration["seeds"];
string? name = builder.Configuration["name"];
builder.Services.AddMesh(mesh =>
{
    mesh.WithCapabilities("counter");
    if (listen is not null)
    {
        mesh.ListenOn(listen);
    }

    if (seeds is not null)
    {
        mesh.UseSeeds(seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    if (name is not null)
    {
        mesh.WithNodeName(name);
    }
});

using IHost host = builder.Build();
await host.StartAsync();
IMesh mesh = host.Services.GetRequiredService<IMesh>();
Console.WriteLine($"{mesh.Self.Name} listening on {mesh.Self.Endpoint ?? "(nothing: a cluster of one)"}; Ctrl+C stops it.");
mesh.MembershipChanged += (_, e) => Console.WriteLine($"  membership: {e.Kind} {e.Node.Name} (view {e.Version})");

IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
try
{
    while (await tick.WaitForNextTickAsync(lifetime.ApplicationStopping))
    {
        foreach (string id in (string[])["counter_1", "counter_2", "counter_3"])
        {
            try
            {
                int value = await mesh.GetActor<ICounter>(id).IncrementAsync();
                Console.WriteLine($"{id} = {value,5}  (lives on {mesh.OwnerOf("counter", id)?.Name})");
            }
            catch (MeshException ex)
            {
                // While a node joins or fails, a call can fail with a typed error; the next tick tries again.
                Console.WriteLine($"{id}: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }
}
catch (OperationCanceledException)
{
    // Ctrl+C: the host is stopping.
}

await host.StopAsync();
return 0;

/// <summary>A counter that every node can call; it lives on one node at a time.</summary>
[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    /// <summary>Adds <paramref name="by"/> and returns the new value.</summary>
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);
}

/// <summary>The counter's implementation: plain state, one message at a time.</summary>
public sealed class Counter : ICounter
{
    private int _value;

    /// <inheritdoc/>
    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default) => new(_value += by);
}
