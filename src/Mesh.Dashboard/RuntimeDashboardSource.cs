using Mesh.Messaging;
using Mesh.Runtime;
using Microsoft.Extensions.Options;

namespace Mesh.Dashboard;

/// <summary>The dashboard's view of the node that hosts it: the runtime's members and owner tables, its own counters,
/// and the other members' counters asked over the cluster's Stats service.</summary>
internal sealed class RuntimeDashboardSource(MeshRuntime runtime, IOptions<MeshDashboardOptions> options) : IDashboardSource
{
    public int ShardCount => runtime.ShardCount;

    public MeshNode Self => runtime.Self;

    public IReadOnlyList<MeshNode> Members => runtime.Members;

    public void GetShardOwners(string capability, Span<MeshNode?> owners)
    {
        Routing.RoutingTable table = runtime.Routing;
        for (int shard = 0; shard < owners.Length; shard++)
        {
            owners[shard] = table.OwnerOf(capability, shard);
        }
    }

    public async ValueTask<NodeCounters?> GetCountersAsync(MeshNode node, CancellationToken cancellationToken)
    {
        if (string.Equals(node.Name, runtime.Self.Name, StringComparison.Ordinal))
        {
            NodeStats own = runtime.ReadStats();
            return new NodeCounters(own.Activations, own.Calls);
        }

        if (runtime.Network is not { } network || node.Endpoint is not { } endpoint || node.Status is not (MeshNodeStatus.Up or MeshNodeStatus.Suspect))
        {
            return null;
        }

        try
        {
            // Half the refresh interval: a member that does not answer by then shows no figures this round.
            NodeStats stats = await NodeStats.RequestAsync(network, endpoint, options.Value.RefreshInterval / 2, cancellationToken).ConfigureAwait(false);
            return new NodeCounters(stats.Activations, stats.Calls);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public IDisposable Subscribe(Action<string, MeshNode, DateTimeOffset> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new Subscription(runtime, handler);
    }

    private sealed class Subscription : IDisposable
    {
        private readonly MeshRuntime _runtime;
        private readonly Action<string, MeshNode, DateTimeOffset> _handler;

        public Subscription(MeshRuntime runtime, Action<string, MeshNode, DateTimeOffset> handler)
        {
            _runtime = runtime;
            _handler = handler;
            runtime.MembershipChanged += OnChanged;
        }

        public void Dispose() => _runtime.MembershipChanged -= OnChanged;

        private void OnChanged(object? sender, MembershipChangedEventArgs change) =>
            _handler(change.Kind switch
            {
                MembershipChangeKind.Up => "up",
                MembershipChangeKind.Suspect => "suspect",
                MembershipChangeKind.Alive => "alive",
                MembershipChangeKind.Down => "down",
                MembershipChangeKind.Left => "left",
                _ => "capabilities",
            }, change.Node, DateTimeOffset.UtcNow);
    }
}
