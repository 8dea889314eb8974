using System.Collections.Frozen;

namespace Mesh.Routing;

/// <summary>
/// One membership view turned into answers: for each capability, the nodes that serve it and the owner of every shard.
/// Immutable; built when membership changes and swapped in whole, so routing reads it without locks or allocation.
/// </summary>
internal sealed class RoutingTable
{
    private static readonly MeshNode[] NoNodes = [];
    private readonly FrozenDictionary<string, MeshNode[]> _owners;
    private readonly FrozenDictionary<string, MeshNode[]> _nodes;

    private RoutingTable(int shardCount, FrozenDictionary<string, MeshNode[]> owners, FrozenDictionary<string, MeshNode[]> nodes, long version)
    {
        ShardCount = shardCount;
        _owners = owners;
        _nodes = nodes;
        Version = version;
        AllCapabilities = nodes.Keys.ToFrozenSet(StringComparer.Ordinal);
    }

    public int ShardCount { get; }

    /// <summary>Gets the membership version the table was built from.</summary>
    public long Version { get; }

    public FrozenSet<string> AllCapabilities { get; }

    /// <summary>Builds the table of <paramref name="members"/>: members that are up or suspect serve shards; down and
    /// left ones do not.</summary>
    public static RoutingTable Build(IEnumerable<MeshNode> members, int shardCount, IShardStrategy strategy, long version)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        var byCapability = new Dictionary<string, List<MeshNode>>(StringComparer.Ordinal);
        foreach (MeshNode member in members)
        {
            // A suspect keeps its shards until it is declared down: moving them on every missed probe would churn.
            if (member.Status is not (MeshNodeStatus.Up or MeshNodeStatus.Suspect))
            {
                continue;
            }

            foreach (string capability in member.Capabilities)
            {
                if (!byCapability.TryGetValue(capability, out List<MeshNode>? list))
                {
                    byCapability[capability] = list = [];
                }

                list.Add(member);
            }
        }

        var owners = new Dictionary<string, MeshNode[]>(StringComparer.Ordinal);
        var nodes = new Dictionary<string, MeshNode[]>(StringComparer.Ordinal);
        foreach ((string capability, List<MeshNode> list) in byCapability)
        {
            list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            MeshNode[] candidates = [.. list];
            var table = new MeshNode[shardCount];
            for (int shard = 0; shard < shardCount; shard++)
            {
                MeshNode owner = strategy.SelectOwner(capability, shard, candidates);
                if (Array.IndexOf(candidates, owner) < 0)
                {
                    throw new InvalidOperationException(
                        $"{strategy.GetType().FullName}.SelectOwner returned '{owner?.Name}' for shard {shard} of '{capability}', which is not one of the candidates.");
                }

                table[shard] = owner;
            }

            owners[capability] = table;
            nodes[capability] = candidates;
        }

        return new RoutingTable(shardCount, owners.ToFrozenDictionary(StringComparer.Ordinal), nodes.ToFrozenDictionary(StringComparer.Ordinal), version);
    }

    public int ShardFor(string id) => ShardHash.ShardOf(id, ShardCount);

    /// <summary>Gets the shard of the id whose UTF-8 bytes are <paramref name="utf8Id"/>.</summary>
    public int ShardFor(ReadOnlySpan<byte> utf8Id) => ShardHash.ShardOf(utf8Id, ShardCount);

    public MeshNode? OwnerOf(string capability, int shard)
        => _owners.TryGetValue(capability, out MeshNode[]? table) ? table[shard] : null;

    public IReadOnlyList<MeshNode> NodesFor(string capability)
        => _nodes.TryGetValue(capability, out MeshNode[]? nodes) ? nodes : NoNodes;
}
