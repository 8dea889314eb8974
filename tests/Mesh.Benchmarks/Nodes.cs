using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;

namespace Mesh.Benchmarks;

/// <summary>Starts the single in-process node each scenario runs on: a Mesh node or a localhost Orleans silo.</summary>
public static class Nodes
{
    /// <summary>The Orleans service and cluster id every benchmark silo and client uses.</summary>
    public const string ServiceId = "mesh-benchmarks";

    /// <inheritdoc cref="ServiceId"/>
    public const string ClusterId = "mesh-benchmarks";

    /// <summary>Starts a host with Mesh serving the "counter" capability.</summary>
    public static async Task<IHost> StartMeshAsync()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
        builder.Services.AddMesh(static mesh => mesh.WithCapabilities("counter"));
        IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    /// <summary>Starts a host with a one-silo Orleans cluster on loopback ports that are free now.</summary>
    public static async Task<IHost> StartOrleansAsync()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Orleans warns at start that a benchmark host runs workstation GC and that its watchdog saw a gap; neither is news.
        builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error).AddConsole();
        int siloPort = FreePort();
        int gatewayPort = FreePort();
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: ClusterId));
        IHost host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        return host;
    }

    public static async Task StopAsync(IHost? host)
    {
        if (host is not null)
        {
            await host.StopAsync().ConfigureAwait(false);
            host.Dispose();
        }
    }

    public static IMesh Mesh(this IHost host) => host.Services.GetRequiredService<IMesh>();

    public static IGrainFactory Grains(this IHost host) => host.Services.GetRequiredService<IGrainFactory>();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
