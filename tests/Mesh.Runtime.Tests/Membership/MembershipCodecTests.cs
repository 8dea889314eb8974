using System.Buffers;
using System.Collections.Frozen;
using Mesh.Membership;

namespace Mesh.Runtime.Tests.Membership;

public sealed class MembershipCodecTests
{
    private static readonly MemberUpdate[] SampleUpdates =
    [
        new("node-a", 1_733_000_000_000, 0, MeshNodeStatus.Up, "10.0.0.1:7400", new[] { "counter", "game" }.ToFrozenSet(StringComparer.Ordinal)),
        new("node-b", 1_733_000_000_001, 7, MeshNodeStatus.Suspect, "[::1]:7400", FrozenSet<string>.Empty),
        new("node-c", 42, long.MaxValue, MeshNodeStatus.Down, "pod-3.mesh.default.svc.cluster.local:7400", new[] { "chat" }.ToFrozenSet(StringComparer.Ordinal)),
        new("node_d.1", -5, 3, MeshNodeStatus.Left, null, FrozenSet<string>.Empty),
    ];

    public static TheoryData<string> MessageNames => [.. Samples().Select(s => s.Type.ToString())];

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void Every_message_type_round_trips(string type)
    {
        MembershipMessage message = Samples().Single(s => s.Type.ToString() == type);

        byte[] bytes = MembershipCodec.Write(message);
        MembershipMessage read = MembershipCodec.Read(bytes);
        MembershipMessage readFromSegments = MembershipCodec.Read(Split(bytes));

        foreach (MembershipMessage copy in (MembershipMessage[])[read, readFromSegments])
        {
            Assert.Equal(message.Type, copy.Type);
            Assert.Equal(message.Sender, copy.Sender);
            Assert.Equal(message.Target, copy.Target);
            Assert.Equal(message.TargetEndpoint, copy.TargetEndpoint);
            Assert.Equal(message.ReplyTo, copy.ReplyTo);
            Assert.Equal(message.Sequence, copy.Sequence);
            Assert.Equal(message.ProtocolVersion, copy.ProtocolVersion);
            Assert.Equal(message.ClusterName, copy.ClusterName);
            Assert.Equal(message.ShardCount, copy.ShardCount);
            Assert.Equal(message.RefusedSetting, copy.RefusedSetting);
            Assert.Equal(message.RefusalMessage, copy.RefusalMessage);
            Assert.Equal(message.Reached, copy.Reached);
            Assert.Equal(message.IsJoin, copy.IsJoin);
            Assert.Equal(message.Updates.Count, copy.Updates.Count);
            for (int i = 0; i < message.Updates.Count; i++)
            {
                MemberUpdate expected = message.Updates[i];
                MemberUpdate actual = copy.Updates[i];
                Assert.Equal((expected.Name, expected.Incarnation, expected.Epoch, expected.Status, expected.Endpoint), (actual.Name, actual.Incarnation, actual.Epoch, actual.Status, actual.Endpoint));
                Assert.True(expected.Capabilities.SetEquals(actual.Capabilities));
            }
        }
    }

    [Fact]
    public void A_probe_with_gossip_stays_small()
    {
        byte[] bytes = MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Ping, Sender = new("node-a", 1), Target = new("node-b", 2) });

        Assert.True(bytes.Length < 40, $"An empty probe is {bytes.Length} bytes.");
    }

    [Theory]
    [InlineData(new byte[] { }, "ends in the middle")]
    [InlineData(new byte[] { 2, 1 }, "format 2")]
    [InlineData(new byte[] { 1, 99, 1, 0, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0 }, "Unknown membership message type 99")]
    [InlineData(new byte[] { 1, 2, 1, 0, (byte)' ', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "not a node name")]
    [InlineData(new byte[] { 1, 2, 1, 0, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF }, "exceeds the bound")]
    [InlineData(new byte[] { 1, 2, 1, 0, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 }, "after its end")]
    public void Malformed_messages_are_rejected_with_a_protocol_error_that_says_why(byte[] bytes, string reason)
    {
        MeshProtocolException error = Assert.Throws<MeshProtocolException>(() => MembershipCodec.Read(bytes));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strings_beyond_their_bound_are_rejected_before_they_are_read()
    {
        var update = new MemberUpdate("node-a", 1, 0, MeshNodeStatus.Up, "10.0.0.1:7400", new[] { new string('a', MembershipCodec.MaxCapabilityLength + 1) }.ToFrozenSet());

        Assert.Throws<ArgumentException>(() => MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Gossip, Sender = new("node-a", 1), Updates = [update] }));
    }

    [Fact]
    public void Twenty_thousand_mutated_messages_decode_or_fail_with_a_protocol_error_only()
    {
        var random = new Random(20_251_203);
        byte[][] originals = [.. Samples().Select(MembershipCodec.Write)];
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < 25_000; i++)
        {
            byte[] mutated = Mutate(originals[random.Next(originals.Length)], random);
            try
            {
                MembershipMessage message = MembershipCodec.Read(mutated);
                Assert.NotNull(message.Sender.Name);
                decoded++;
            }
            catch (MeshProtocolException)
            {
                rejected++;
            }
        }

        // Both outcomes must occur, or the mutations are too timid (all decode) or too wild (none do).
        Assert.True(decoded > 100, $"{decoded} decoded");
        Assert.True(rejected > 10_000, $"{rejected} rejected");
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits; e++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 1 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(random.Next(bytes.Count), 1);
                    break;
                case 3:
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                case 4 when bytes.Count > 1:
                    int cut = random.Next(bytes.Count);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                default:
                    // A length or count field set to an extreme: the decoder must check it against what is left.
                    if (bytes.Count > 3)
                    {
                        int at = random.Next(bytes.Count - 1);
                        bytes[at] = 0xFF;
                        bytes[at + 1] = (byte)random.Next(256);
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes)
    {
        var first = new Segment(bytes.AsMemory(0, bytes.Length / 2), 0);
        Segment last = first.Append(bytes.AsMemory(bytes.Length / 2));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static IEnumerable<MembershipMessage> Samples()
    {
        MemberId sender = new("node-a", 1_733_000_000_000);
        MemberId target = new("node-b", 1_733_000_000_001);
        yield return new MembershipMessage { Type = MembershipMessageType.Ping, Sender = sender, Target = target, Updates = SampleUpdates[..2] };
        yield return new MembershipMessage { Type = MembershipMessageType.Ack, Sender = target, Updates = SampleUpdates };
        yield return new MembershipMessage { Type = MembershipMessageType.PingRequest, Sender = sender, Target = target, TargetEndpoint = "10.0.0.2:7400", ReplyTo = "10.0.0.1:7400", Sequence = 99, Updates = SampleUpdates[2..] };
        yield return new MembershipMessage { Type = MembershipMessageType.PingRequestAck, Sender = target, Sequence = 99, Reached = true, Updates = [] };
        yield return new MembershipMessage { Type = MembershipMessageType.Sync, Sender = sender, ProtocolVersion = 1, ClusterName = "prod-é", ShardCount = 4096, IsJoin = true, Updates = SampleUpdates };
        yield return new MembershipMessage { Type = MembershipMessageType.SyncAck, Sender = target, Updates = SampleUpdates };
        yield return new MembershipMessage { Type = MembershipMessageType.Refused, Sender = target, RefusedSetting = "ClusterName", RefusalMessage = "ClusterName is 'a' here but 'b' there." };
        yield return new MembershipMessage { Type = MembershipMessageType.Gossip, Sender = sender, Updates = SampleUpdates[3..] };
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
