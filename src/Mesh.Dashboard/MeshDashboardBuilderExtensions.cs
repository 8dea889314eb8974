using Mesh.Dashboard;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Mesh;

/// <summary>Adds the live cluster dashboard to a Mesh node.</summary>
public static class MeshDashboardBuilderExtensions
{
    /// <summary>Serves a live page of the cluster from this node: members (state, capabilities, address, uptime), the shard
    /// map of every capability, activations and call rate per node, and recent membership events. It listens on
    /// <see cref="MeshDashboardOptions.Url"/> (loopback by default) with its own small web server, so the application
    /// need not be a web application. The page needs no internet access.</summary>
    /// <param name="builder">The Mesh builder.</param>
    /// <param name="configure">Changes the options after the configuration section <c>Mesh:Dashboard</c> is applied.</param>
    /// <returns>The builder.</returns>
    public static MeshBuilder AddDashboard(this MeshBuilder builder, Action<MeshDashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (!services.Any(static d => d.ServiceType == typeof(DashboardHostedService)))
        {
            services.AddOptions<MeshDashboardOptions>()
                .Configure<IServiceProvider>(static (options, provider) => Read(provider.GetService<IConfiguration>(), options))
                .Validate(static o => Uri.TryCreate(o.Url, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https", "Mesh:Dashboard:Url must be an absolute http:// or https:// URL, such as http://127.0.0.1:7480.")
                .Validate(static o => o.RefreshInterval >= TimeSpan.FromMilliseconds(50) && o.RefreshInterval <= TimeSpan.FromMinutes(1), "Mesh:Dashboard:RefreshInterval must be between 50 ms and 1 minute.")
                .Validate(static o => o.EventHistory is >= 1 and <= 10_000, "Mesh:Dashboard:EventHistory must be between 1 and 10000.")
                .ValidateOnStart();
            services.TryAddSingleton<IDashboardSource, RuntimeDashboardSource>();
            services.AddSingleton<DashboardHostedService>();
            services.AddHostedService(static provider => provider.GetRequiredService<DashboardHostedService>());
        }

        if (configure is not null)
        {
            services.PostConfigure(configure);
        }

        return builder;
    }

    private static void Read(IConfiguration? configuration, MeshDashboardOptions options)
    {
        if (configuration?.GetSection(MeshDashboardOptions.SectionName) is not { } section)
        {
            return;
        }

        options.Url = section[nameof(MeshDashboardOptions.Url)] ?? options.Url;
        if (section[nameof(MeshDashboardOptions.RefreshInterval)] is { } refresh)
        {
            options.RefreshInterval = TimeSpan.TryParse(refresh, System.Globalization.CultureInfo.InvariantCulture, out TimeSpan value) ? value : TimeSpan.Zero;
        }

        if (section[nameof(MeshDashboardOptions.EventHistory)] is { } history)
        {
            options.EventHistory = int.TryParse(history, System.Globalization.CultureInfo.InvariantCulture, out int value) ? value : 0;
        }
    }
}
