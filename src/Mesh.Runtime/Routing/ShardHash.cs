using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Mesh.Routing;

/// <summary>The stable id-to-shard function every node shares: XxHash3 (seed 0) of the id's UTF-8 bytes, modulo the shard
/// count. It must never change between versions that form one cluster: it decides where every actor lives.</summary>
internal static class ShardHash
{
    private const int StackLimit = 256;

    /// <summary>Gets the shard of the id whose UTF-8 bytes are <paramref name="utf8Id"/> (as a call's envelope carries
    /// it): the same shard as <see cref="ShardOf(string, int)"/> gives the decoded id.</summary>
    public static int ShardOf(ReadOnlySpan<byte> utf8Id, int shardCount) => (int)(XxHash3.HashToUInt64(utf8Id) % (ulong)shardCount);

    /// <summary>Gets the shard of <paramref name="id"/>; allocates nothing for ids up to 85 characters (rents beyond).</summary>
    public static int ShardOf(string id, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(id);
        int max = Encoding.UTF8.GetMaxByteCount(id.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int length = Encoding.UTF8.GetBytes(id, buffer);
            return ShardOf(buffer[..length], shardCount);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
