using System.IO.Hashing;
using System.Text;

namespace Mesh.Messaging;

/// <summary>
/// The actor keys an owner decoded recently, so a call to a warm actor does not allocate its key string again: a
/// set-associative table indexed by a hash of the key's UTF-8 bytes, <see cref="Ways"/> keys per set. A miss decodes the
/// key and puts it in a free way of its set, or replaces the ways in turn; nothing is ever locked or evicted on a timer.
/// </summary>
/// <remarks>
/// <para>Why several ways: with one key per slot, two warm actors whose keys hash to the same slot replaced each other
/// on every call, and each such call allocated the key again (string, bytes and entry, about 180 bytes). Among 32 warm
/// keys in 1,024 slots that happens more often than not (the birthday bound, about 38 %). With 4 ways, a set must be
/// wanted by 5 warm keys at once before any of them is decoded twice.</para>
/// <para>Threads: any connection's read loop reads and writes entries at once. An entry is immutable and swapped in
/// whole, so a reader sees a complete entry or another one, and checks its hash and bytes before trusting it. Two
/// misses racing for one way may both decode; the later write wins, which costs one extra decode, never a wrong key.</para>
/// </remarks>
internal sealed class KeyCache
{
    /// <summary>The number of entries: the warm actors of a node fit, and the table stays small (at most
    /// <see cref="Slots"/> × (<see cref="MaxCachedKeyBytes"/> bytes + their string) ≈ 400 KiB when every entry holds a
    /// key of the longest cached size; far less for typical keys).</summary>
    public const int Slots = 1024;

    /// <summary>The keys one set holds.</summary>
    public const int Ways = 4;

    /// <summary>The longest key (in UTF-8 bytes) cached: longer keys are rare, and caching them would make the table's
    /// worst-case memory grow with the envelope's 4 KiB key limit.</summary>
    public const int MaxCachedKeyBytes = 128;

    private const int Sets = Slots / Ways;

    private readonly Entry?[] _entries = new Entry?[Slots];
    private int _nextVictim;

    /// <summary>Gets the key <paramref name="utf8"/> encodes, without allocating when it was decoded recently.</summary>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxCachedKeyBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        ulong hash = XxHash3.HashToUInt64(utf8);
        int first = (int)(hash & (Sets - 1)) * Ways;
        int free = -1;
        for (int way = 0; way < Ways; way++)
        {
            Entry? entry = Volatile.Read(ref _entries[first + way]);
            if (entry is null)
            {
                // Ways fill in order and are never emptied again, so no later way holds a key either.
                free = first + way;
                break;
            }

            if (entry.Hash == hash && utf8.SequenceEqual(entry.Utf8))
            {
                return entry.Key;
            }
        }

        string key = Encoding.UTF8.GetString(utf8);
        int target = free >= 0 ? free : first + (Interlocked.Increment(ref _nextVictim) & (Ways - 1));
        Volatile.Write(ref _entries[target], new Entry(hash, utf8.ToArray(), key));
        return key;
    }

    private sealed class Entry(ulong hash, byte[] utf8, string key)
    {
        public ulong Hash { get; } = hash;

        public byte[] Utf8 { get; } = utf8;

        public string Key { get; } = key;
    }
}
