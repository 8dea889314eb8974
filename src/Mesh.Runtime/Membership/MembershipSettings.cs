using System.Collections.Frozen;

namespace Mesh.Membership;

/// <summary>Everything the membership service needs to know about this node and the cluster, taken from
/// <see cref="MeshOptions"/> once the node listens and knows the endpoint it advertises.</summary>
internal sealed record MembershipSettings
{
    /// <summary>The version of the membership protocol; nodes of different versions refuse each other at join.</summary>
    public const int CurrentProtocolVersion = 1;

    /// <summary>λ of SWIM's dissemination: every update is piggybacked about λ·log2(n + 1) times, enough for an
    /// epidemic to reach every member with high probability (SWIM, section 4.1).</summary>
    public const int RetransmitMultiplier = 3;

    /// <summary>How many updates ride on one probe, ack or indirect probe: enough to spread a burst of joins within a
    /// few rounds, small enough that a probe stays one small frame.</summary>
    public const int MaxUpdatesPerMessage = 16;

    /// <summary>How long a member that is down or left stays in the view as a tombstone, so that late gossip about it
    /// cannot bring it back; a tenth of an hour covers every retransmission and at least one state exchange.</summary>
    public static readonly TimeSpan MinimumTombstoneRetention = TimeSpan.FromMinutes(6);

    public required string NodeName { get; init; }

    /// <summary>Identifies this run of the node (the start time in milliseconds): a restarted node is a new member.</summary>
    public required long Incarnation { get; init; }

    public required string AdvertisedEndpoint { get; init; }

    public required IReadOnlySet<string> Capabilities { get; init; }

    public required string ClusterName { get; init; }

    public required int ShardCount { get; init; }

    public int ProtocolVersion { get; init; } = CurrentProtocolVersion;

    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    public int IndirectProbes { get; init; } = 3;

    public TimeSpan SuspicionTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan JoinRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan DnsRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Seeds { get; init; } = [];

    public string? DnsDiscoveryHost { get; init; }

    public int DnsDiscoveryPort { get; init; } = MeshOptions.DefaultPort;

    /// <summary>How long a down or left member is remembered: at least <see cref="MinimumTombstoneRetention"/> and
    /// three state exchanges.</summary>
    public TimeSpan TombstoneRetention => TimeSpan.FromTicks(Math.Max(MinimumTombstoneRetention.Ticks, 3 * SyncInterval.Ticks));

    /// <summary>How long an indirect probe waits: the helper's own probe of the target plus the round trip to it.</summary>
    public TimeSpan IndirectProbeTimeout => ProbeTimeout * 2;

    /// <summary>The least time leaving waits for the members' acknowledgements. A node leaves once per run, so a second
    /// is cheap; a member that misses the leave instead waits out a whole suspicion before it moves the shards.</summary>
    public static readonly TimeSpan MinimumLeaveTimeout = TimeSpan.FromSeconds(1);

    /// <summary>How long leaving waits for the members to acknowledge (all told in parallel): two probe timeouts, at
    /// least <see cref="MinimumLeaveTimeout"/>.</summary>
    public TimeSpan LeaveTimeout => TimeSpan.FromTicks(Math.Max(MinimumLeaveTimeout.Ticks, 2 * ProbeTimeout.Ticks));

    /// <summary>Builds the settings of a node from its options.</summary>
    /// <param name="options">The node's options.</param>
    /// <param name="nodeName">The node's name.</param>
    /// <param name="incarnation">This run of the node (the start time in milliseconds).</param>
    /// <param name="advertisedEndpoint">The <c>host:port</c> other nodes reach this node on.</param>
    /// <param name="capabilities">The capabilities the node serves at start.</param>
    public static MembershipSettings From(MeshOptions options, string nodeName, long incarnation, string advertisedEndpoint, IReadOnlySet<string> capabilities)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        ArgumentException.ThrowIfNullOrEmpty(advertisedEndpoint);
        ArgumentNullException.ThrowIfNull(capabilities);
        MeshMembershipOptions membership = options.Membership;
        return new MembershipSettings
        {
            NodeName = nodeName,
            Incarnation = incarnation,
            AdvertisedEndpoint = advertisedEndpoint,
            Capabilities = capabilities.ToFrozenSet(StringComparer.Ordinal),
            ClusterName = options.ClusterName,
            ShardCount = options.ShardCount,
            ProbeInterval = membership.ProbeInterval,
            ProbeTimeout = membership.ProbeTimeout,
            IndirectProbes = membership.IndirectProbes,
            SuspicionTimeout = membership.SuspicionTimeout,
            SyncInterval = membership.SyncInterval,
            JoinRetryInterval = membership.JoinRetryInterval,
            DnsRefreshInterval = membership.DnsRefreshInterval,
            Seeds = [.. options.Seeds],
            DnsDiscoveryHost = options.DnsDiscoveryHost,
            DnsDiscoveryPort = options.DnsDiscoveryPort,
        };
    }

    /// <summary>How long a suspected member has to refute: <see cref="SuspicionTimeout"/>, growing with the logarithm
    /// of the cluster's size because gossip needs about log(n) rounds to reach the suspect and bring back its answer.</summary>
    public TimeSpan SuspicionTimeoutFor(int members) => SuspicionTimeout * Math.Max(1.0, Math.Log10(members));

    /// <summary>How many times one update is piggybacked in a cluster of <paramref name="members"/>.</summary>
    public static int RetransmitLimit(int members) => RetransmitMultiplier * (int)Math.Ceiling(Math.Log2(members + 1));
}
