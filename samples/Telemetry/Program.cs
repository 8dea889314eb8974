using Mesh;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

// Two Mesh nodes in this process, on loopback with mutual TLS (development certificates in a temporary folder): "owner"
// serves the greeter actors, "caller" has no capability, so its calls cross to the owner. Only the caller's host wires
// OpenTelemetry; its listeners are process-wide, so the console shows both sides of every call: the caller's Client
// span and the owner's Server span, in one trace. The metrics (meter "Mesh") print when the caller's host is disposed,
// after both nodes stopped; being process-wide too, they add up both nodes' instruments.
string certificates = Directory.CreateTempSubdirectory("mesh-telemetry-sample-").FullName;
try
{
    using IHost owner = BuildNode("owner", certificates, seed: null, capabilities: ["greeter"]);
    await owner.StartAsync();
    IMesh ownerMesh = owner.Services.GetRequiredService<IMesh>();

    using IHost caller = BuildNode("caller", certificates, seed: ownerMesh.Self.Endpoint, capabilities: [], builder => builder.Services
        .AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddSource("Mesh").AddConsoleExporter())
        .WithMetrics(metrics => metrics.AddMeter("Mesh").AddConsoleExporter()));
    await caller.StartAsync();
    IMesh mesh = caller.Services.GetRequiredService<IMesh>();

    // Membership spreads the owner's capability to the caller within a few probe rounds.
    using (var joined = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
    {
        while (mesh.NodesFor("greeter").Count == 0)
        {
            await Task.Delay(50, joined.Token);
        }
    }

    IGreeter alice = mesh.GetActor<IGreeter>("alice");
    Console.WriteLine(await alice.GreetAsync("caller"));
    Console.WriteLine(await alice.GreetAsync("caller"));
    try
    {
        await alice.GreetAsync(string.Empty);
    }
    catch (ActorInvocationException exception)
    {
        // The failed call's spans carry status Error and error.type.
        Console.WriteLine($"refused: {exception.Message}");
    }

    await caller.StopAsync();
    await owner.StopAsync();
}
finally
{
    Directory.Delete(certificates, recursive: true);
}

return 0;

static IHost BuildNode(string name, string certificates, string? seed, string[] capabilities, Action<HostApplicationBuilder>? configure = null)
{
    HostApplicationBuilder builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Configuration["Mesh:NodeName"] = name;
    builder.Configuration["Mesh:Endpoint"] = "127.0.0.1:0";
    builder.Configuration["Mesh:Tls:DevelopmentCertificateFolder"] = certificates;
    if (seed is not null)
    {
        builder.Configuration["Mesh:Seeds:0"] = seed;
    }

    builder.Services.AddMesh(mesh => mesh.WithCapabilities(capabilities));
    configure?.Invoke(builder);
    return builder.Build();
}

/// <summary>A greeter: counts how often it greeted.</summary>
[MeshActor("greeter")]
public interface IGreeter : IMeshActor
{
    /// <summary>Greets <paramref name="name"/>; throws for an empty name.</summary>
    ValueTask<string> GreetAsync(string name);
}

/// <summary>The greeter's implementation.</summary>
public sealed class Greeter(IActorContext context) : IGreeter
{
    private int _greetings;

    /// <inheritdoc/>
    public ValueTask<string> GreetAsync(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new($"{context.Id.Key} greets {name} (greeting {++_greetings})");
    }
}
