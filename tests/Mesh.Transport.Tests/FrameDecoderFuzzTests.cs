using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Mesh.Transport.Framing;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>
/// Deterministic fuzzing of <see cref="FrameDecoder"/>: valid streams of frames, mutated (bit flips, corrupted length
/// fields, reserved bits, random kinds, truncation) and cut into random segments. Only <see cref="FrameFormatException"/>
/// may come out, every whole unmutated stream must decode exactly, the loop must finish within its time budget, and it
/// must not allocate beyond the exceptions it throws. <c>MESH_FUZZ_ITERATIONS</c> runs it longer.
/// </summary>
public sealed class FrameDecoderFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 0x5EED_F00D;
    private const int DefaultIterations = 100_000;
    private const int MaxPayload = 512;
    private const int MaxFramesPerStream = 3;
    private const int MaxSegments = 8;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(2);

    private enum Mutation
    {
        None,
        BitFlips,
        LengthField,
        ReservedBits,
        KindByte,
        Truncation,
    }

    [Fact]
    public void Mutated_truncated_and_split_frames_only_ever_raise_FrameFormatException()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("MESH_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int configured) && configured > 0
            ? configured
            : DefaultIterations;
        var random = new Random(Seed);
        byte[] stream = new byte[MaxFramesPerStream * (FrameHeader.Size + MaxPayload)];
        var segments = new Segments(MaxSegments);
        int[] cuts = new int[MaxSegments - 1];
        long decodedFrames = 0;
        long refused = 0;
        long incomplete = 0;

        var elapsed = Stopwatch.StartNew();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            if (elapsed.Elapsed > Budget)
            {
                Assert.Fail($"The fuzz loop exceeded its budget of {Budget} after {i} of {iterations} iterations: the decoder hangs or is far too slow.");
            }

            int frames = random.Next(1, MaxFramesPerStream + 1);
            int length = WriteValidStream(random, stream, frames);
            var mutation = (Mutation)random.Next(0, 6);
            length = Mutate(random, stream, length, mutation);
            int cutCount = random.Next(0, Math.Min(MaxSegments - 1, length));
            Span<int> chosen = cuts.AsSpan(0, cutCount);
            ChooseCuts(random, chosen, length);
            ReadOnlySequence<byte> buffer = segments.Split(stream.AsMemory(0, length), chosen);

            int decoded = 0;
            try
            {
                while (FrameDecoder.TryRead(ref buffer, MaxPayload, out FrameHeader header, out ReadOnlySequence<byte> payload))
                {
                    if (payload.Length != header.PayloadLength || header.PayloadLength > MaxPayload)
                    {
                        Assert.Fail($"Iteration {i} (seed {Seed}): a decoded frame's payload is {payload.Length} bytes but its header says {header.PayloadLength}.");
                    }

                    decoded++;
                }

                if (!buffer.IsEmpty)
                {
                    incomplete++;
                }
            }
            catch (FrameFormatException)
            {
                refused++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"Iteration {i} (seed {Seed}, mutation {mutation}): the decoder threw {ex.GetType().Name}, not FrameFormatException: {ex}");
            }

            if (mutation == Mutation.None && (decoded != frames || !buffer.IsEmpty))
            {
                Assert.Fail($"Iteration {i} (seed {Seed}): an unmutated stream of {frames} frames decoded as {decoded}.");
            }

            decodedFrames += decoded;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        output.WriteLine($"{iterations} streams in {elapsed.Elapsed}: {decodedFrames} frames decoded, {refused} refused, {incomplete} incomplete; {allocated} bytes allocated ({(double)allocated / iterations:F1} per stream, {(refused == 0 ? 0 : (double)allocated / refused):F0} per refusal).");

        // Decoding allocates nothing; refusing allocates the exception and its message. Bound both per stream and per
        // refusal, so an allocation per decoded frame or an allocation sized by a corrupted length field fails.
        Assert.True(refused > iterations / 4, $"Only {refused} of {iterations} streams were refused: the mutations do not reach the validation.");
        Assert.True(decodedFrames > iterations / 4, $"Only {decodedFrames} frames decoded: the valid streams are not valid.");
        Assert.True(allocated <= refused * 2048, $"{allocated} bytes allocated for {refused} refusals: more than 2 KiB each.");
    }

    private static int WriteValidStream(Random random, byte[] stream, int frames)
    {
        int offset = 0;
        for (int f = 0; f < frames; f++)
        {
            var kind = (FrameKind)random.Next(1, 8);
            ulong id = kind is FrameKind.OneWay or FrameKind.GoAway ? 0 : (ulong)random.NextInt64(1, long.MaxValue);
            int payloadLength = random.Next(0, MaxPayload + 1);
            new FrameHeader(kind, id, payloadLength).Write(stream.AsSpan(offset));
            random.NextBytes(stream.AsSpan(offset + FrameHeader.Size, payloadLength));
            offset += FrameHeader.Size + payloadLength;
        }

        return offset;
    }

    private static int Mutate(Random random, byte[] stream, int length, Mutation mutation)
    {
        switch (mutation)
        {
            case Mutation.BitFlips:
                for (int flips = random.Next(1, 5); flips > 0; flips--)
                {
                    int bit = random.Next(0, length * 8);
                    stream[bit / 8] ^= (byte)(1 << (bit % 8));
                }

                return length;
            case Mutation.LengthField:
                // The first frame's length: anything from small to near 4 GiB.
                uint corrupted = random.Next(0, 3) switch
                {
                    0 => (uint)random.Next(0, MaxPayload * 2),
                    1 => uint.MaxValue - (uint)random.Next(0, 1024),
                    _ => (uint)random.NextInt64(0, uint.MaxValue + 1L),
                };
                BinaryPrimitives.WriteUInt32LittleEndian(stream, corrupted);
                return length;
            case Mutation.ReservedBits:
                stream[6 + random.Next(0, 2)] |= (byte)(1 << random.Next(0, 8));
                return length;
            case Mutation.KindByte:
                stream[4] = (byte)random.Next(0, 256);
                return length;
            case Mutation.Truncation:
                return random.Next(0, length);
            default:
                return length;
        }
    }

    private static void ChooseCuts(Random random, Span<int> cuts, int length)
    {
        // Distinct positions inside (0, length), ascending.
        for (int i = 0; i < cuts.Length; i++)
        {
            cuts[i] = random.Next(1, length);
        }

        cuts.Sort();
        int distinct = 0;
        for (int i = 0; i < cuts.Length; i++)
        {
            if (distinct == 0 || cuts[i] != cuts[distinct - 1])
            {
                cuts[distinct++] = cuts[i];
            }
        }

        for (int i = distinct; i < cuts.Length; i++)
        {
            // Duplicates become empty segments at the end of the data, which pipes can produce as well.
            cuts[i] = length;
        }
    }
}
