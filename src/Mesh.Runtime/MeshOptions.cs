namespace Mesh;

/// <summary>Settings of a Mesh node, bound from the configuration section <c>Mesh</c> and validated when the host starts.</summary>
public sealed class MeshOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "Mesh";

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

    /// <summary>Gets the certificates this node presents and trusts (configuration section <c>Mesh:Tls</c>).</summary>
    public MeshTlsOptions Tls { get; } = new();

    /// <summary>Gets the problems found while reading the configuration section, reported by validation.</summary>
    internal List<string> ConfigurationErrors { get; } = [];
}
