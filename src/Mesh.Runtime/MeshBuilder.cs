using Mesh.Runtime;
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

    /// <summary>Makes this node listen for other nodes on <paramref name="hostPort"/> (option <c>Mesh:Endpoint</c>), which
    /// turns it into a cluster member.</summary>
    /// <param name="hostPort">An address and port, such as <c>127.0.0.1:7400</c>, <c>0.0.0.0:7400</c> or <c>[::1]:7400</c>;
    /// port 0 picks a free port.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="hostPort"/> is not of the form <c>host:port</c>.</exception>
    public MeshBuilder ListenOn(string hostPort)
    {
        HostPort.Parse(hostPort, nameof(hostPort), allowPortZero: true);
        Services.Configure<MeshOptions>(options => options.Endpoint = hostPort);
        return this;
    }

    /// <summary>Joins the cluster through these nodes (option <c>Mesh:Seeds</c>): any one that answers is enough, and the
    /// node keeps trying until one does.</summary>
    /// <param name="hostPorts">The <c>host:port</c> of one or more nodes; host names are resolved on each attempt.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">An entry is not of the form <c>host:port</c>.</exception>
    public MeshBuilder UseSeeds(params string[] hostPorts)
    {
        ArgumentNullException.ThrowIfNull(hostPorts);
        string[] copy = [.. hostPorts];
        foreach (string hostPort in copy)
        {
            HostPort.Parse(hostPort, nameof(hostPorts), allowPortZero: false);
        }

        Services.Configure<MeshOptions>(options =>
        {
            foreach (string seed in copy)
            {
                options.Seeds.Add(seed);
            }
        });
        return this;
    }

    /// <summary>Finds the nodes to join through by resolving <paramref name="host"/> (options <c>Mesh:DnsDiscovery:Host</c>
    /// and <c>:Port</c>): every address it resolves to is a node listening on <paramref name="port"/>. On Kubernetes, name
    /// the nodes' headless service, such as <c>mesh-headless.default.svc.cluster.local</c>.</summary>
    /// <param name="host">The host name to resolve, again now and then.</param>
    /// <param name="port">The port the nodes listen on.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not between 1 and 65535.</exception>
    public MeshBuilder UseDnsDiscovery(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Services.Configure<MeshOptions>(options =>
        {
            options.DnsDiscoveryHost = host;
            options.DnsDiscoveryPort = port;
        });
        return this;
    }

    /// <summary>Names this node (option <c>Mesh:NodeName</c>); names must be unique in the cluster.</summary>
    /// <param name="name">The name: letters, digits, '-', '_' and '.'.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has other characters.</exception>
    public MeshBuilder WithNodeName(string name)
    {
        if (!HostPort.IsValidNodeName(name))
        {
            throw new ArgumentException($"'{name}' is not a node name: use letters, digits, '-', '_' and '.', at most 128 characters.", nameof(name));
        }

        Services.Configure<MeshOptions>(options => options.NodeName = name);
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
