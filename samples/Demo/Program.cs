using System.Diagnostics;
using System.Globalization;
using DemoSample;
using Mesh;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The demo: three nodes of one cluster, each its own host in this process, talking QUIC over loopback as separate
// machines would. Capabilities as in eigr/mesh's multi-node example: node1 serves "game" (and the dashboard), node2
// "chat", node3 "game" and "counter". Every node calls every kind of actor; Mesh routes each call to the owner.
if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(DemoOptions.Usage);
    return 0;
}

if (DemoOptions.Parse(args, Console.Error) is not { } options)
{
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

string seed = Endpoint(options.BasePort);
(string Name, string[] Capabilities)[] layout = [("node1", ["game"]), ("node2", ["chat"]), ("node3", ["game", "counter"])];
var hosts = new IHost[layout.Length];
for (int i = 0; i < layout.Length; i++)
{
    HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.AddSimpleConsole(static o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
    (string name, string[] capabilities) = layout[i];
    string listen = Endpoint(options.BasePort + i);
    builder.Services.AddMesh(mesh =>
    {
        mesh.WithNodeName(name).WithCapabilities(capabilities).ListenOn(listen).UseSeeds(seed);
        if (name == "node1")
        {
            mesh.AddDashboard(dashboard => dashboard.Url = options.DashboardUrl);
        }
    });
    hosts[i] = builder.Build();
}

int exitCode = 0;
try
{
    var starting = Stopwatch.StartNew();
    await Task.WhenAll(hosts.Select(static h => h.StartAsync()));
    IMesh[] meshes = hosts.Select(static h => h.Services.GetRequiredService<IMesh>()).ToArray();
    if (!await Demo.WaitForClusterAsync(meshes, stop.Token))
    {
        Console.Error.WriteLine($"The three nodes did not form a cluster within {Demo.FormTimeout.TotalSeconds:0} s; each sees: "
            + string.Join("; ", meshes.Select(static m => $"{m.Self.Name}: {string.Join(' ', m.Members.Select(static n => $"{n.Name}:{n.Status}"))}")));
        exitCode = 1;
    }
    else
    {
        Console.WriteLine($"Cluster of {meshes.Length} nodes formed in {starting.Elapsed.TotalSeconds:0.0} s:");
        foreach (MeshNode node in meshes[0].Members.OrderBy(static n => n.Name, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {node.Name,-6} {node.Endpoint,-16} {node.Status,-5} {string.Join(", ", node.Capabilities.Order(StringComparer.Ordinal))}");
        }

        Console.WriteLine($"Dashboard: {options.DashboardUrl} (served by node1; open it while the demo runs)");
        Demo.PrintPlacement(meshes[1]);
        await Demo.RunCallsAsync(meshes, options.Duration, stop.Token);
        await Demo.PrintStateAsync(meshes[1]);
    }
}
finally
{
    using var shutdown = new CancellationTokenSource(Demo.StopTimeout);
    await Task.WhenAll(hosts.Select(h => h.StopAsync(shutdown.Token)));
    foreach (IHost host in hosts)
    {
        host.Dispose();
    }
}

Console.WriteLine(exitCode == 0 ? "Stopped cleanly." : "Stopped.");
return exitCode;

static string Endpoint(int port) => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}");
