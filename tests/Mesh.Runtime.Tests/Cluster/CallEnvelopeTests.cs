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
