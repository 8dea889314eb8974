namespace Mesh.Cluster.Tests.Harness;

/// <summary>Every deadline and tolerance of the cluster tests, with the reason for its value. The node settings they
/// assume are those <see cref="TestCluster"/> passes to every node.</summary>
internal static class Bounds
{
    /// <summary>A node process prints READY: JIT and development certificates on a loaded 2-core machine.</summary>
    public static readonly TimeSpan NodeStart = TimeSpan.FromSeconds(60);

    /// <summary>A simple command (members, owners, one call) is answered.</summary>
    public static readonly TimeSpan Command = TimeSpan.FromSeconds(30);

    /// <summary>A bulk command (<c>calls</c>) is answered: a thousand calls with some first activations.</summary>
    public static readonly TimeSpan BulkCommand = TimeSpan.FromSeconds(90);

    /// <summary>Started nodes agree on the members and the shard owners: a join retries every second
    /// (Mesh:Membership:JoinRetryInterval) and gossip spreads it in a few probe rounds of 1 s; 30 s is ample under load.</summary>
    public static readonly TimeSpan ViewConvergence = TimeSpan.FromSeconds(30);

    /// <summary>A crashed node is no longer Up in the survivors' views: probe interval 1 s + probe timeout 0.5 s +
    /// suspicion timeout 3 s (the test nodes' settings) = 4.5 s, plus dissemination and load.</summary>
    public static readonly TimeSpan FailureDetection = TimeSpan.FromSeconds(20);

    /// <summary>A node that left gracefully is listed as Left (never Down: that would be the failure detector, not the
    /// leave announcement) by every survivor.</summary>
    public static readonly TimeSpan LeaveVisible = TimeSpan.FromSeconds(10);

    /// <summary>After a node is killed, calls to its ids succeed again on survivors (the time from the kill to the last
    /// failed call): failure detection (4.5 s nominal) while calls in flight to the dead node run into their 5 s timeout.
    /// Measured 5-10 s on the loaded 2-core machine, where probes compete with 8 workers calling flat out.</summary>
    public static readonly TimeSpan Recovery = TimeSpan.FromSeconds(20);

    /// <summary>Once views agree, no id stays active on two nodes: the node that lost a shard stops its activations when
    /// it applies the new view, so this only allows for in-flight calls and load.</summary>
    public static readonly TimeSpan DuplicateResolution = TimeSpan.FromSeconds(10);

    /// <summary>After a partition heals, all nodes agree again: each side must learn of the other through seeds or a
    /// state sync (Mesh:Membership:SyncInterval is 2 s in the partition test), then gossip.</summary>
    public static readonly TimeSpan HealConvergence = TimeSpan.FromSeconds(40);

    /// <summary>How long a node with foreign credentials is watched after the legitimate cluster formed: several join
    /// retries (1 s) and probe rounds (1 s), so a join that could succeed would.</summary>
    public static readonly TimeSpan IntruderObservation = TimeSpan.FromSeconds(6);

    /// <summary>Largest deviation of one node's share of ids from the even share, over 1,000 ids: the binomial
    /// standard deviation is 1.6 points for two nodes, so 8 points is 5 sigma.</summary>
    public const double SpreadTolerance = 0.08;

    /// <summary>Adding a 4th node to 3 should move a quarter of 4,096 shards; the binomial standard deviation is 0.7 points,
    /// so [20 %, 30 %] is 7 sigma each way.</summary>
    public const double MovedFractionTolerance = 0.05;

    /// <summary>Polling interval of every wait: short next to the bounds, long enough not to load the nodes.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
}
