using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Mesh.Routing;

/// <summary>
/// The default <see cref="IShardStrategy"/>: rendezvous (highest random weight) hashing. Each candidate gets a weight,
/// XxHash3 of (node name, capability, shard); the heaviest owns the shard. A joining node takes about 1/(n+1) of the
/// shards, each from whoever owned it; a leaving node's shards spread over the others; nothing else moves (compare
/// modulo placement, where a join moves most shards).
/// </summary>
internal sealed class RendezvousShardStrategy : IShardStrategy
{
    public static readonly RendezvousShardStrategy Instance = new();

    public MeshNode SelectOwner(string capability, int shard, IReadOnlyList<MeshNode> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("There must be at least one candidate.", nameof(candidates));
        }

        MeshNode best = candidates[0];
        ulong bestWeight = Weight(best.Name, capability, shard);
        for (int i = 1; i < candidates.Count; i++)
        {
            MeshNode candidate = candidates[i];
            ulong weight = Weight(candidate.Name, capability, shard);
            if (weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(candidate.Name, best.Name) < 0))
            {
                best = candidate;
                bestWeight = weight;
            }
        }

        return best;
    }

    /// <summary>XxHash3 of <c>name \0 capability \0 shard(LE int32)</c>.</summary>
    internal static ulong Weight(string node, string capability, int shard)
    {
        int length = Encoding.UTF8.GetByteCount(node) + Encoding.UTF8.GetByteCount(capability) + 2 + sizeof(int);
        Span<byte> buffer = length <= 512 ? stackalloc byte[512] : new byte[length];
        int at = Encoding.UTF8.GetBytes(node, buffer);
        buffer[at++] = 0;
        at += Encoding.UTF8.GetBytes(capability, buffer[at..]);
        buffer[at++] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer[at..], shard);
        return XxHash3.HashToUInt64(buffer[..(at + sizeof(int))]);
    }
}
