namespace Mesh;

/// <summary>
/// How nodes watch each other (configuration section <c>Mesh:Membership</c>). Every <see cref="ProbeInterval"/> a node
/// probes one member; a member that answers neither the probe within <see cref="ProbeTimeout"/> nor the
/// <see cref="IndirectProbes"/> members asked to probe it is suspected; a suspected member that does not refute within
/// <see cref="SuspicionTimeout"/> is declared down, and its shards move. The defaults detect a crashed node in about
/// 1 + 0.5 + 5 seconds on a small cluster; shorten them on a fast, quiet network, lengthen them on a lossy one.
/// </summary>
public sealed class MeshMembershipOptions
{
    /// <summary>Gets or sets how often a node probes one other member. Default: 1 second.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long a probe waits for its answer before indirect probes are tried. Default: 500 ms.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets how many other members are asked to probe a member that did not answer. Default: 3.</summary>
    public int IndirectProbes { get; set; } = 3;

    /// <summary>Gets or sets how long a suspected member has to refute the suspicion before it is declared down (the
    /// timeout grows with the logarithm of the cluster's size). Default: 5 seconds.</summary>
    public TimeSpan SuspicionTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often a node exchanges its whole view with a random member, repairing anything gossip
    /// missed. Default: 30 seconds.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often a node that has not reached any seed tries again. Default: 1 second.</summary>
    public TimeSpan JoinRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how often DNS discovery resolves its host name again to find new nodes. Default: 30 seconds.</summary>
    public TimeSpan DnsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
