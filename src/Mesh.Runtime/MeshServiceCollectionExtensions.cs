using Mesh;
using Mesh.Runtime;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds Mesh to an application's services.</summary>
public static class MeshServiceCollectionExtensions
{
    /// <summary>Adds a Mesh node: <see cref="IMesh"/>, the runtime and its hosted service. Actor contracts and
    /// implementations are found through generated code; options come from the configuration section <c>Mesh</c>.</summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Configures the node, for example <c>mesh =&gt; mesh.WithCapabilities("counter")</c>.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddMesh(this IServiceCollection services, Action<MeshBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(static d => d.ServiceType == typeof(MeshRuntime)))
        {
            services.AddOptions<MeshOptions>().ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<MeshOptions>, MeshOptionsConfiguration>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshOptions>, MeshOptionsValidator>());
            services.AddSingleton<MeshRuntime>();
            services.AddSingleton<IMesh>(static provider => provider.GetRequiredService<MeshRuntime>());
            services.AddHostedService<MeshHostedService>();
        }

        configure?.Invoke(new MeshBuilder(services));
        return services;
    }
}
