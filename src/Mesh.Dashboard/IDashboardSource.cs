namespace Mesh.Dashboard;

/// <summary>Where the dashboard reads the cluster from: the hosting node's own view, and the counters every member
/// reports about itself. The runtime implements it; tests substitute their own.</summary>
internal interface IDashboardSource
{
    /// <summary>Gets the shard count of the cluster.</summary>
    int ShardCount { get; }

    /// <summary>Gets the hosting node.</summary>
    MeshNode Self { get; }

    /// <summary>Gets every member in the hosting node's view, whatever its status.</summary>
    IReadOnlyList<MeshNode> Members { get; }

    /// <summary>Gets the owner of every shard of <paramref name="capability"/> in the hosting node's view.</summary>
    /// <param name="capability">A capability some member serves.</param>
    /// <param name="owners">Receives the owner of shard i at index i (null where none).</param>
    void GetShardOwners(string capability, Span<MeshNode?> owners);

    /// <summary>Asks <paramref name="node"/> for its counters.</summary>
    /// <param name="node">A member that is up.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The counters, or <see langword="null"/> when the node did not answer.</returns>
    ValueTask<NodeCounters?> GetCountersAsync(MeshNode node, CancellationToken cancellationToken);

    /// <summary>Calls <paramref name="handler"/> on every membership change, until the returned object is disposed.</summary>
    /// <param name="handler">Receives the change, the node it is about and when it happened.</param>
    /// <returns>The subscription.</returns>
    IDisposable Subscribe(Action<string, MeshNode, DateTimeOffset> handler);
}

/// <summary>What a node reports about itself.</summary>
/// <param name="Activations">Live activations on the node.</param>
/// <param name="Calls">Calls the node's actors have run since it started.</param>
internal readonly record struct NodeCounters(long Activations, long Calls);
