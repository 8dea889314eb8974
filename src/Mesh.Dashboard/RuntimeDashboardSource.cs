using Mesh.Runtime;

namespace Mesh.Dashboard;

/// <summary>The dashboard's view of the node it runs in: membership and routing from the runtime's current view.</summary>
internal sealed class RuntimeDashboardSource(MeshRuntime runtime) : IDashboardSource
{
    public int ShardCount => runtime.ShardCount;

    public MeshNode Self => runtime.Self;

    public IReadOnlyList<MeshNode> Members => [runtime.Self];

    public void GetShardOwners(string capability, Span<MeshNode?> owners)
    {
        Routing.RoutingTable table = runtime.Routing;
        for (int shard = 0; shard < owners.Length; shard++)
        {
            owners[shard] = table.OwnerOf(capability, shard);
        }
    }

    public ValueTask<NodeCounters?> GetCountersAsync(MeshNode node, CancellationToken cancellationToken) =>
        new(node.Equals(runtime.Self) ? new NodeCounters(runtime.ActivationCount, 0) : null);

    public IDisposable Subscribe(Action<string, MeshNode, DateTimeOffset> handler) => NoSubscription.Instance;

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
