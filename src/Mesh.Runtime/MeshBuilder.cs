using Microsoft.Extensions.DependencyInjection;

namespace Mesh;

/// <summary>Configures Mesh inside <see cref="MeshServiceCollectionExtensions.AddMesh"/>.</summary>
public sealed class MeshBuilder
{
    internal MeshBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>Gets the application's services, for extensions of the builder.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Declares the capabilities this node serves: it activates actors whose contract names one of them.</summary>
    /// <param name="capabilities">Capability names, as in <see cref="MeshActorAttribute"/>.</param>
    /// <returns>This builder.</returns>
    public MeshBuilder WithCapabilities(params string[] capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        string[] copy = [.. capabilities];
        Services.Configure<MeshOptions>(options =>
        {
            foreach (string capability in copy)
            {
                options.Capabilities.Add(capability);
            }
        });
        return this;
    }

    /// <summary>Changes options in code, after configuration has been applied.</summary>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public MeshBuilder Configure(Action<MeshOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.PostConfigure(configure);
        return this;
    }
}
