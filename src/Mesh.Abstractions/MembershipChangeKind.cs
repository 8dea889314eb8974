namespace Mesh;

/// <summary>What happened to a member of the cluster, as one node's view saw it.</summary>
public enum MembershipChangeKind
{
    /// <summary>A member joined (or this node learned of it) and is up.</summary>
    Up = 0,

    /// <summary>A member missed its probes and is suspected; it keeps its shards until it refutes or is declared down.</summary>
    Suspect = 1,

    /// <summary>A suspected member proved it is alive (it refuted the suspicion with a newer incarnation).</summary>
    Alive = 2,

    /// <summary>A member was declared dead; its shards moved to the others.</summary>
    Down = 3,

    /// <summary>A member left gracefully; its shards moved to the others.</summary>
    Left = 4,

    /// <summary>A member registered new capabilities.</summary>
    CapabilitiesChanged = 5,
}
