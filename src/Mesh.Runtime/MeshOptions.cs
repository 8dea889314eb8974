namespace Mesh;

/// <summary>Settings of a Mesh node, bound from the configuration section <c>Mesh</c> and validated when the host starts.</summary>
public sealed class MeshOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "Mesh";

    /// <summary>The port nodes listen on by convention: the default of <see cref="DnsDiscoveryPort"/>.</summary>
    public const int DefaultPort = 7400;

    /// <summary>Gets the capabilities this node serves (configuration: <c>Mesh:Capabilities:0</c>, ...), in addition to those
    /// given to <see cref="MeshBuilder.WithCapabilities(string[])"/>.</summary>
    public IList<string> Capabilities { get; } = [];

    /// <summary>Gets or sets how long a call may take, queueing included, before the caller gets a
    /// <see cref="MeshTimeoutException"/>. Default: 30 seconds.</summary>
    public TimeSpan DefaultCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long an activation may receive no message before it is deactivated. Default: 15 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Gets or sets how many messages may wait in one activation's mailbox; callers beyond it get a
    /// <see cref="MailboxFullException"/> at once. Default: 10,000.</summary>
    public int MailboxCapacity { get; set; } = 10_000;

    /// <summary>Gets or sets how long host shutdown waits for activations to deactivate, and how long one deactivation
    /// (<see cref="IActorLifecycle.OnDeactivateAsync"/>) may take. Default: 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many shards actor ids are spread over; every node of a cluster must use the same value.
    /// Default: 4,096.</summary>
    public int ShardCount { get; set; } = 4096;

    /// <summary>Gets or sets how this node talks to other nodes. Default: <see cref="MeshTransport.Quic"/>.</summary>
    public MeshTransport Transport { get; set; } = MeshTransport.Quic;

    /// <summary>Gets or sets the largest frame, in bytes, a node sends or accepts between nodes; a larger incoming frame
    /// closes its connection before anything is allocated for it. Default: 16 MiB.</summary>
    public int MaxFrameSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Gets or sets how long the QUIC transport's receive thread stays awake after its last datagram, looking
    /// for the next one between yields of its core, before it sleeps. A datagram that arrives meanwhile needs no
    /// wake-up, which on a busy node costs more than the looking: on a two-core machine the default raised three-node
    /// sustained throughput by about 40 %. The price is processor time under light traffic: a node that receives more
    /// often than this keeps the thread awake. <see cref="TimeSpan.Zero"/> sleeps at once; ignored with
    /// <see cref="MeshTransport.Tcp"/>. Default: 50 microseconds; at most 10 milliseconds.</summary>
    public TimeSpan ReceiveSpinTime { get; set; } = Mesh.Transport.Quic.QuicEndpointOptions.DefaultReceiveSpinTime;

    /// <summary>Gets the certificates this node presents and trusts (configuration section <c>Mesh:Tls</c>).</summary>
    public MeshTlsOptions Tls { get; } = new();

    /// <summary>Gets or sets the <c>host:port</c> this node listens on for other nodes (configuration:
    /// <c>Mesh:Endpoint</c>; <see cref="MeshBuilder.ListenOn(string)"/>). Port 0 picks a free port. Default: none, which
    /// makes a single node that neither listens nor joins a cluster.</summary>
    public string? Endpoint { get; set; }

    /// <summary>Gets or sets the <c>host:port</c> other nodes reach this node on, when it differs from
    /// <see cref="Endpoint"/> (behind NAT, or in a container: for example the pod's IP). Default: <see cref="Endpoint"/>,
    /// or, when that listens on every address (<c>0.0.0.0</c> or <c>[::]</c>), this host's first non-loopback address
    /// with the port listened on.</summary>
    public string? AdvertisedEndpoint { get; set; }

    /// <summary>Gets the <c>host:port</c> of nodes to join through (configuration: <c>Mesh:Seeds:0</c>, ...;
    /// <see cref="MeshBuilder.UseSeeds(string[])"/>). Any one that answers is enough; listing this node's own endpoint is
    /// harmless, so every node of a cluster can share one list.</summary>
    public IList<string> Seeds { get; } = [];

    /// <summary>Gets or sets a host name whose addresses are the nodes to join through, re-resolved now and then
    /// (configuration: <c>Mesh:DnsDiscovery:Host</c>; <see cref="MeshBuilder.UseDnsDiscovery(string, int)"/>). On
    /// Kubernetes, the headless service of the nodes. Default: none.</summary>
    public string? DnsDiscoveryHost { get; set; }

    /// <summary>Gets or sets the port nodes found through <see cref="DnsDiscoveryHost"/> listen on (configuration:
    /// <c>Mesh:DnsDiscovery:Port</c>). Default: 7400.</summary>
    public int DnsDiscoveryPort { get; set; } = DefaultPort;

    /// <summary>Gets or sets this node's name, unique in the cluster (configuration: <c>Mesh:NodeName</c>;
    /// <see cref="MeshBuilder.WithNodeName(string)"/>). Default: the machine name, the process id and a random suffix.</summary>
    public string? NodeName { get; set; }

    /// <summary>Gets or sets the cluster's name; a node whose cluster name differs is refused when it joins. Default:
    /// <c>mesh</c>.</summary>
    public string ClusterName { get; set; } = "mesh";

    /// <summary>Gets the failure detection and gossip settings (configuration section <c>Mesh:Membership</c>).</summary>
    public MeshMembershipOptions Membership { get; } = new();

    /// <summary>Gets the problems found while reading the configuration section, reported by validation.</summary>
    internal List<string> ConfigurationErrors { get; } = [];
}
