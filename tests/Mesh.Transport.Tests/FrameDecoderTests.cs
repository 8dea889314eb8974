using System.Buffers;
using Mesh.Transport.Framing;

namespace Mesh.Transport.Tests;

public sealed class FrameDecoderTests
{
    private const int Max = 1024;

    [Fact]
    public void The_header_is_sixteen_little_endian_bytes_in_the_documented_order()
    {
        var writer = new ArrayBufferWriter<byte>();

        FrameEncoder.Write(writer, FrameKind.Response, 0x0807060504030201, [0xAA, 0xBB]);

        byte[] expected =
        [
            0x02, 0x00, 0x00, 0x00, // payload length 2
            0x02, // kind Response
            0x00, // flags
            0x00, 0x00, // reserved
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // correlation id
            0xAA, 0xBB,
        ];
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData((byte)FrameKind.Request, 7UL)]
    [InlineData((byte)FrameKind.Response, 7UL)]
    [InlineData((byte)FrameKind.OneWay, 0UL)]
    [InlineData((byte)FrameKind.Error, 9UL)]
    [InlineData((byte)FrameKind.Ping, 0UL)]
    [InlineData((byte)FrameKind.Pong, 3UL)]
    [InlineData((byte)FrameKind.GoAway, 0UL)]
    public void Every_kind_round_trips(byte kindByte, ulong correlationId)
    {
        var kind = (FrameKind)kindByte;
        byte[] frame = Encode(kind, correlationId, [1, 2, 3]);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.True(FrameDecoder.TryRead(ref buffer, Max, out FrameHeader header, out ReadOnlySequence<byte> payload));

        Assert.Equal(kind, header.Kind);
        Assert.Equal(correlationId, header.CorrelationId);
        Assert.Equal([1, 2, 3], payload.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_frame_split_at_every_position_across_segments_decodes_the_same()
    {
        byte[] data = [.. Encode(FrameKind.Request, 42, [10, 20, 30, 40, 50]), .. Encode(FrameKind.OneWay, 0, [60])];
        for (int first = 1; first < data.Length; first++)
        {
            for (int second = first + 1; second < data.Length; second++)
            {
                ReadOnlySequence<byte> buffer = Segments.Split(data, first, second);

                Assert.True(FrameDecoder.TryRead(ref buffer, Max, out FrameHeader a, out ReadOnlySequence<byte> payloadA));
                Assert.Equal([10, 20, 30, 40, 50], payloadA.ToArray());
                Assert.True(FrameDecoder.TryRead(ref buffer, Max, out FrameHeader b, out ReadOnlySequence<byte> payloadB));
                Assert.Equal([60], payloadB.ToArray());
                Assert.Equal((FrameKind.Request, 42UL, FrameKind.OneWay), (a.Kind, a.CorrelationId, b.Kind));
                Assert.True(buffer.IsEmpty);
            }
        }
    }

    [Fact]
    public void An_incomplete_frame_needs_more_bytes_and_leaves_the_buffer_as_it_was()
    {
        byte[] frame = Encode(FrameKind.Request, 1, new byte[100]);
        for (int length = 0; length < frame.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(frame, 0, length);

            Assert.False(FrameDecoder.TryRead(ref buffer, Max, out _, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void An_oversized_length_is_refused_from_the_header_alone()
    {
        byte[] header = Conformance.TransportConformanceTests.RawHeader(uint.MaxValue, (byte)FrameKind.Request, 1);
        var buffer = new ReadOnlySequence<byte>(header);

        FrameFormatException error = Assert.Throws<FrameFormatException>(() => FrameDecoder.TryRead(ref buffer, Max, out _, out _));

        Assert.Equal(FrameFormatError.Oversized, error.Error);
        Assert.Equal("oversized_frame", error.MetricKind);
    }

    [Fact]
    public void A_payload_of_exactly_the_maximum_is_accepted()
    {
        byte[] frame = Encode(FrameKind.OneWay, 0, new byte[Max]);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.True(FrameDecoder.TryRead(ref buffer, Max, out FrameHeader header, out _));
        Assert.Equal((uint)Max, header.PayloadLength);
    }

    [Theory]
    [InlineData(6, 0x01, (int)FrameFormatError.ReservedBitsSet)]
    [InlineData(7, 0x80, (int)FrameFormatError.ReservedBitsSet)]
    [InlineData(5, 0x01, (int)FrameFormatError.UnknownFlags)]
    [InlineData(4, 0x00, (int)FrameFormatError.UnknownKind)]
    [InlineData(4, 0x08, (int)FrameFormatError.UnknownKind)]
    [InlineData(4, 0xFF, (int)FrameFormatError.UnknownKind)]
    public void A_header_that_breaks_the_protocol_is_refused_with_its_reason(int offset, byte value, int expected)
    {
        var reason = (FrameFormatError)expected;
        byte[] frame = Encode(FrameKind.Request, 5, [1]);
        frame[offset] = value;
        var buffer = new ReadOnlySequence<byte>(frame);

        FrameFormatException error = Assert.Throws<FrameFormatException>(() => FrameDecoder.TryRead(ref buffer, Max, out _, out _));

        Assert.Equal(reason, error.Error);
    }

    [Theory]
    [InlineData((byte)FrameKind.Request, 0UL)]
    [InlineData((byte)FrameKind.Response, 0UL)]
    [InlineData((byte)FrameKind.Error, 0UL)]
    [InlineData((byte)FrameKind.OneWay, 1UL)]
    [InlineData((byte)FrameKind.GoAway, 1UL)]
    public void A_correlation_id_that_does_not_fit_the_kind_is_refused(byte kindByte, ulong correlationId)
    {
        var kind = (FrameKind)kindByte;
        var buffer = new ReadOnlySequence<byte>(Encode(kind, correlationId, []));

        FrameFormatException error = Assert.Throws<FrameFormatException>(() => FrameDecoder.TryRead(ref buffer, Max, out _, out _));

        Assert.Equal(FrameFormatError.InvalidCorrelationId, error.Error);
    }

    [Fact]
    public void Decoding_whole_and_split_frames_allocates_nothing()
    {
        byte[] data = [.. Encode(FrameKind.Request, 42, new byte[300]), .. Encode(FrameKind.Response, 43, new byte[10])];
        var segments = new Segments(4);
        int[] cuts = [7, 200, 320];
        Decode(segments, data, cuts);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Decode(segments, data, cuts);
        }

        // Not one allocation per decode (20,000 frames): a few bytes once (tiering of the loop) are all that may show.
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1_000, $"{allocated} bytes allocated decoding 20,000 frames.");

        static void Decode(Segments segments, byte[] data, int[] cuts)
        {
            ReadOnlySequence<byte> buffer = segments.Split(data, cuts);
            while (FrameDecoder.TryRead(ref buffer, Max, out _, out _))
            {
            }
        }
    }

    internal static byte[] Encode(FrameKind kind, ulong correlationId, byte[] payload)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameEncoder.Write(writer, kind, correlationId, payload);
        return writer.WrittenSpan.ToArray();
    }
}
