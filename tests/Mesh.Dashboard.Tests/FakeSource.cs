using System.Collections.Frozen;

namespace Mesh.Dashboard.Tests;

/// <summary>A cluster the test controls: members, their counters, and membership events raised on demand.</summary>
internal sealed class FakeSource : IDashboardSource
{
    private readonly List<Action<string, MeshNode, DateTimeOffset>> _handlers = [];

    public FakeSource(params MeshNode[] members)
    {
        Members = members;
        Self = members[0];
    }

    public int ShardCount => 64;

    public MeshNode Self { get; }

    public IReadOnlyList<MeshNode> Members { get; set; }

    public Dictionary<string, NodeCounters> Counters { get; } = new(StringComparer.Ordinal);

    public static MeshNode Node(string name, MeshNodeStatus status, params string[] capabilities) =>
        new(name, 1, $"127.0.0.1:{7400 + name.Length}", capabilities.ToFrozenSet(StringComparer.Ordinal), status);

    public void GetShardOwners(string capability, Span<MeshNode?> owners)
    {
        MeshNode[] serving = [.. Members.Where(m => m.Status == MeshNodeStatus.Up && m.Capabilities.Contains(capability))];
        for (int shard = 0; shard < owners.Length; shard++)
        {
            owners[shard] = serving.Length == 0 ? null : serving[shard % serving.Length];
        }
    }

    public ValueTask<NodeCounters?> GetCountersAsync(MeshNode node, CancellationToken cancellationToken) =>
        new(Counters.TryGetValue(node.Name, out NodeCounters counters) ? counters : null);

    public IDisposable Subscribe(Action<string, MeshNode, DateTimeOffset> handler)
    {
        _handlers.Add(handler);
        return new Unsubscribe(() => _handlers.Remove(handler));
    }

    public void Raise(string kind, MeshNode node, DateTimeOffset time)
    {
        foreach (Action<string, MeshNode, DateTimeOffset> handler in _handlers.ToArray())
        {
            handler(kind, node, time);
        }
    }

    private sealed class Unsubscribe(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
