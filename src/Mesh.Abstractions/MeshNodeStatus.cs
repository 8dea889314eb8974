namespace Mesh;

/// <summary>What a node's cluster view says about a member.</summary>
public enum MeshNodeStatus
{
    /// <summary>The member is alive and serves its capabilities.</summary>
    Up = 0,

    /// <summary>The member missed its probes and may be dead; it keeps its shards until it refutes the suspicion or is
    /// declared down.</summary>
    Suspect = 1,

    /// <summary>The member was declared dead; its shards moved to the others.</summary>
    Down = 2,

    /// <summary>The member left gracefully; its shards moved to the others.</summary>
    Left = 3,
}
