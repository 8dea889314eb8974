using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>
/// <c>node orleans &lt;silo port&gt; &lt;gateway port&gt; &lt;primary silo port&gt;</c> or
/// <c>node mesh &lt;listen host:port&gt; &lt;seed host:port&gt;</c>: one serving node of a multi-node scenario, started by
/// <see cref="NodeProcess"/>. It serves the scenario's three actor types, prints <c>READY</c>, and stops when its
/// standard input closes.
/// </summary>
internal static class NodeCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        if (args.Count < 1)
        {
            Console.Error.WriteLine("usage: node orleans <silo port> <gateway port> <primary silo port> | node mesh <listen host:port> <seed host:port> [quic|tcp]");
            return 2;
        }

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error).AddConsole(static o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        switch (args[0])
        {
            case Framework.OrleansName or "orleans" when args.Count == 4:
                int siloPort = int.Parse(args[1], CultureInfo.InvariantCulture);
                int gatewayPort = int.Parse(args[2], CultureInfo.InvariantCulture);
                int primaryPort = int.Parse(args[3], CultureInfo.InvariantCulture);
                builder.UseOrleans(silo => silo.UseLocalhostClustering(
                    siloPort, gatewayPort, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, primaryPort), Nodes.ServiceId, Nodes.ClusterId));
                break;
            case Framework.MeshName or "mesh" when args.Count is 3 or 4:
                MeshTransport transport = args.Count == 4 ? Enum.Parse<MeshTransport>(args[3], ignoreCase: true) : MeshTransport.Quic;
                builder.Services.AddMesh(mesh => mesh.WithCapabilities("counter", "tally", "gauge").ListenOn(args[1]).UseSeeds(args[2])
                    .WithNodeName("bench-" + args[1].Replace(':', '-').Replace('.', '-')).Configure(o => o.Transport = transport));
                break;
            default:
                Console.Error.WriteLine($"node: cannot start '{string.Join(' ', args)}'.");
                return 2;
        }

        using IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        Console.Out.WriteLine("READY");
        Console.Out.Flush();

        // Stop when the benchmark closes our input (or dies).
        await Task.Run(static () =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        }).ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await host.StopAsync(timeout.Token).ConfigureAwait(false);
        return 0;
    }
}
