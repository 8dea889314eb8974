using System.IO.Hashing;
using System.Text;

namespace Mesh.Messaging;

/// <summary>
/// The actor keys an owner decoded recently, so a call to a hot actor does not allocate its key string again: a
/// direct-mapped table indexed by a hash of the key's UTF-8 bytes. A miss decodes the key and replaces the slot (two
/// keys that share a slot take turns); nothing is ever locked or evicted on a timer.
/// </summary>
/// <remarks>Threads: any connection's read loop reads and writes slots at once. A slot holds an immutable entry swapped
/// in whole, so a reader sees a complete entry or another one, and checks the bytes before trusting it.</remarks>
internal sealed class KeyCache
{
    /// <summary>The number of slots: hot actors of a node fit, and the table stays small (at most
    /// <see cref="Slots"/> × (<see cref="MaxCachedKeyBytes"/> bytes + their string) ≈ 400 KiB when every slot holds a
    /// key of the longest cached size; far less for typical keys).</summary>
    public const int Slots = 1024;

    /// <summary>The longest key (in UTF-8 bytes) cached: longer keys are rare, and caching them would make the table's
    /// worst-case memory grow with the envelope's 4 KiB key limit.</summary>
    public const int MaxCachedKeyBytes = 128;

    private readonly Entry?[] _entries = new Entry?[Slots];

    /// <summary>Gets the key <paramref name="utf8"/> encodes, without allocating when it was decoded recently.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedKeyBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        int slot = (int)(XxHash3.HashToUInt64(utf8) & (Slots - 1));
        Entry? entry = Volatile.Read(ref _entries[slot]);
        if (entry is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Key;
        }

        string key = Encoding.UTF8.GetString(utf8);
        Volatile.Write(ref _entries[slot], new Entry(utf8.ToArray(), key));
        return key;
    }

    private sealed class Entry(byte[] utf8, string key)
    {
        public byte[] Utf8 { get; } = utf8;

        public string Key { get; } = key;
    }
}
