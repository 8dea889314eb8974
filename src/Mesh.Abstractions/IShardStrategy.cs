namespace Mesh;

/// <summary>
/// Decides which node owns a shard of a capability. Register an implementation in dependency injection to replace the
/// default, rendezvous (highest random weight) hashing, which moves only the shards a joining or leaving node takes or
/// gives up. The runtime calls it only when membership changes, for every shard of every capability, and caches the
/// answers: routing a call never calls it.
/// </summary>
public interface IShardStrategy
{
    /// <summary>Picks the owner of <paramref name="shard"/> of <paramref name="capability"/>.</summary>
    /// <param name="capability">The capability.</param>
    /// <param name="shard">The shard, from 0 to the cluster's shard count minus one.</param>
    /// <param name="candidates">The nodes that are up and serve <paramref name="capability"/>, ordered by name; never empty.
    /// Every node of the cluster passes the same candidates for the same view.</param>
    /// <returns>One of <paramref name="candidates"/>. Every node must return the same owner for the same arguments.</returns>
    MeshNode SelectOwner(string capability, int shard, IReadOnlyList<MeshNode> candidates);
}
