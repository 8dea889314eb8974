using System.Buffers;
using System.Diagnostics;
using System.Text;
using Mesh.Messaging;

namespace Mesh.Runtime.Tests.Cluster;

public sealed class CallEnvelopeTests
{
    private static readonly ActorId Target = new("counter", "ICounter", "counter_1");

    [Fact]
    public void An_envelope_reads_back_every_field_and_the_body_after_it()
    {
        var output = new ArrayBufferWriter<byte>();
        CallEnvelope.Write(output, CallFlags.OneWay, hops: 1, methodId: 0x7639F392u, deadline: 1234, CallEnvelope.EncodeTarget(Target), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE");
        output.Write<byte>([42, 43]);

        Assert.Null(CallEnvelope.TryRead(output.WrittenSpan, out CallEnvelope envelope));

        Assert.True(envelope.IsOneWay);
        Assert.Equal(CallFlags.OneWay | CallFlags.TraceContext, envelope.Flags);
        Assert.Equal(1, envelope.Hops);
        Assert.Equal(0x7639F392u, envelope.MethodId);
        Assert.Equal(1234u, envelope.DeadlineMilliseconds);
        Assert.Equal("ICounter", Encoding.UTF8.GetString(envelope.ActorType));
        Assert.Equal("counter", Encoding.UTF8.GetString(envelope.Capability));
        Assert.Equal("counter_1", Encoding.UTF8.GetString(envelope.Key));
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Encoding.UTF8.GetString(envelope.TraceParent));
        Assert.Equal("congo=t61rcWkgMzE", Encoding.UTF8.GetString(envelope.TraceState));
        Assert.Equal(new byte[] { 42, 43 }, output.WrittenSpan[envelope.BodyOffset..].ToArray());
    }

    [Fact]
    public void Without_trace_context_the_trace_fields_are_empty_and_a_forwarder_rewrites_hops_and_deadline_in_place()
    {
        var output = new ArrayBufferWriter<byte>();
        CallEnvelope.Write(output, CallFlags.None, 0, 7, CallEnvelope.NoDeadline, CallEnvelope.EncodeTarget(Target));
        byte[] bytes = output.WrittenSpan.ToArray();

        CallEnvelope.Rewrite(bytes, 2, 99);

        Assert.Null(CallEnvelope.TryRead(bytes, out CallEnvelope envelope));
        Assert.Equal(CallFlags.None, envelope.Flags);
        Assert.True(envelope.TraceParent.IsEmpty);
        Assert.Equal(2, envelope.Hops);
        Assert.Equal(99u, envelope.DeadlineMilliseconds);
        Assert.Equal(bytes.Length, envelope.BodyOffset);
    }

    [Theory]
    [InlineData(new byte[0], "shorter than its fixed part")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "format version")]
    [InlineData(new byte[] { 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "flags")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "actor type")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, (byte)'I', 9, 0 }, "capability")]
    public void Malformed_envelopes_are_refused_with_a_reason(byte[] payload, string reason)
    {
        string? error = CallEnvelope.TryRead(payload, out _);

        Assert.NotNull(error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_longer_than_the_envelope_carries_is_refused_when_the_reference_encodes_it()
    {
        Assert.Throws<ArgumentException>(() => CallEnvelope.EncodeTarget(new ActorId("counter", "ICounter", new string('k', CallEnvelope.MaxKeyBytes + 1))));
    }

    [Fact]
    public void Fuzzed_envelopes_are_read_or_refused_but_never_throw_or_read_outside_the_payload()
    {
        // Fixed seed: a failure reproduces. Valid envelopes, mutated by bit flips, random bytes and truncation.
        const int Iterations = 50_000;
        var random = new Random(0x0E1F_CA11);
        var output = new ArrayBufferWriter<byte>();
        CallEnvelope.Write(output, CallFlags.None, 0, 1, 500, CallEnvelope.EncodeTarget(Target), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=b");
        output.Write<byte>([1, 2, 3, 4]);
        byte[] valid = output.WrittenSpan.ToArray();
        byte[] buffer = new byte[valid.Length + 16];
        int read = 0, refused = 0;
        var elapsed = Stopwatch.StartNew();
        for (int i = 0; i < Iterations && elapsed.Elapsed < TimeSpan.FromMinutes(1); i++)
        {
            valid.CopyTo(buffer, 0);
            int length = valid.Length;
            switch (random.Next(4))
            {
                case 0:
                    buffer[random.Next(length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    buffer[random.Next(length)] = (byte)random.Next(256);
                    break;
                case 2:
                    length = random.Next(length);
                    break;
                default:
                    length = random.Next(buffer.Length + 1);
                    random.NextBytes(buffer.AsSpan(0, length));
                    break;
            }

            ReadOnlySpan<byte> payload = buffer.AsSpan(0, length);
            if (CallEnvelope.TryRead(payload, out CallEnvelope envelope) is null)
            {
                read++;
                Assert.InRange(envelope.BodyOffset, CallEnvelope.FixedSize, length);
                Assert.False(envelope.ActorType.IsEmpty);
            }
            else
            {
                refused++;
            }
        }

        Assert.True(read > 0 && refused > 0, $"read {read}, refused {refused}: the fuzzer should produce both.");
    }
}

public sealed class KeyCacheTests
{
    [Fact]
    public void A_key_decoded_again_is_the_same_string_and_every_key_decodes_correctly_whatever_shares_its_slot()
    {
        var cache = new KeyCache();
        string first = cache.Get("counter_1"u8);

        Assert.Same(first, cache.Get("counter_1"u8));

        // More keys than slots: some share a slot and take turns, and each still comes back as itself.
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < KeyCache.Slots * 2; i++)
            {
                string key = "player-" + i;
                Assert.Equal(key, cache.Get(Encoding.UTF8.GetBytes(key)));
            }
        }

        string longKey = new('k', KeyCache.MaxCachedKeyBytes + 1);
        Assert.Equal(longKey, cache.Get(Encoding.UTF8.GetBytes(longKey)));
    }

    [Fact]
    public void Warm_keys_that_hash_to_the_same_set_stay_cached_together_and_a_key_too_many_takes_turns()
    {
        // Keys whose hashes pick the same set (the low bits of the hash, Slots / Ways sets).
        const int Sets = KeyCache.Slots / KeyCache.Ways;
        byte[][] sharing = [.. Enumerable.Range(0, 100_000)
            .Select(i => Encoding.UTF8.GetBytes("actor-" + i))
            .Where(b => (System.IO.Hashing.XxHash3.HashToUInt64(b) & (Sets - 1)) == 7)
            .Take(KeyCache.Ways + 1)];
        Assert.Equal(KeyCache.Ways + 1, sharing.Length);
        var cache = new KeyCache();

        string[] first = [.. sharing.Take(KeyCache.Ways).Select(b => cache.Get(b))];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < KeyCache.Ways; i++)
            {
                // Decoded once: every later call gets the very same string, so a warm call allocates no key.
                Assert.Same(first[i], cache.Get(sharing[i]));
            }
        }

        // One more key in the full set replaces one of them, and every key still decodes as itself.
        string extra = cache.Get(sharing[KeyCache.Ways]);
        Assert.Equal(Encoding.UTF8.GetString(sharing[KeyCache.Ways]), extra);
        Assert.Same(extra, cache.Get(sharing[KeyCache.Ways]));
        for (int i = 0; i < KeyCache.Ways; i++)
        {
            Assert.Equal(first[i], cache.Get(sharing[i]));
        }
    }

    [Fact]
    public async Task Threads_racing_to_replace_the_same_ways_always_get_their_own_key()
    {
        // 24 keys that all want the same set of 4 ways, read and replaced by 4 threads at once: every answer must be
        // the key asked for, whichever entry a thread saw or overwrote.
        const int Sets = KeyCache.Slots / KeyCache.Ways;
        (byte[] Utf8, string Key)[] keys = [.. Enumerable.Range(0, 200_000)
            .Select(i => "racer-" + i)
            .Select(k => (Utf8: Encoding.UTF8.GetBytes(k), Key: k))
            .Where(k => (System.IO.Hashing.XxHash3.HashToUInt64(k.Utf8) & (Sets - 1)) == 3)
            .Take(24)];
        Assert.Equal(24, keys.Length);
        var cache = new KeyCache();
        int wrong = 0;
        Task[] threads = [.. Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            var random = new Random(t);
            for (int i = 0; i < 50_000; i++)
            {
                (byte[] utf8, string key) = keys[random.Next(keys.Length)];
                if (cache.Get(utf8) != key)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }))];

        await Task.WhenAll(threads).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(0, wrong);
    }
}
