using System.Buffers;
using System.Buffers.Binary;
using Mesh.Transport;
using Mesh.Transport.Framing;

namespace Mesh.Messaging;

/// <summary>What a node reports about itself when a peer asks (<see cref="ClusterService.Stats"/>).</summary>
/// <param name="Activations">Live activations on the node.</param>
/// <param name="Calls">Calls and one-way messages its actors have run since it started.</param>
internal readonly record struct NodeStats(long Activations, long Calls)
{
    /// <summary>The size of the answer: a format version byte, then both counters, little-endian.</summary>
    public const int Size = 17;

    private const byte FormatVersion = 1;

    /// <summary>Asks the node on <paramref name="endpoint"/> for its counters.</summary>
    /// <exception cref="MeshProtocolException">The answer is not a stats answer of a version this node reads.</exception>
    public static async ValueTask<NodeStats> RequestAsync(IPeerNetwork network, string endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using FramePayload answer = await network.RequestAsync(endpoint, ClusterService.Stats, ReadOnlyMemory<byte>.Empty, timeout, cancellationToken).ConfigureAwait(false);
        return Read(answer.Span);
    }

    public static NodeStats Read(ReadOnlySpan<byte> answer)
    {
        if (answer.Length != Size || answer[0] != FormatVersion)
        {
            throw new MeshProtocolException($"A stats answer must be {Size} bytes of format {FormatVersion}; got {answer.Length} bytes{(answer.IsEmpty ? string.Empty : $" of format {answer[0]}")}.");
        }

        return new NodeStats(BinaryPrimitives.ReadInt64LittleEndian(answer[1..]), BinaryPrimitives.ReadInt64LittleEndian(answer[9..]));
    }

    public void Write(IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(Size);
        span[0] = FormatVersion;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], Activations);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], Calls);
        output.Advance(Size);
    }
}

/// <summary>Answers <see cref="ClusterService.Stats"/> requests with this node's counters.</summary>
internal sealed class NodeStatsService(Func<NodeStats> read) : IClusterServiceHandler
{
    public ValueTask HandleRequestAsync(ReadOnlySequence<byte> payload, IBufferWriter<byte> response, PeerIdentity peer, CancellationToken cancellationToken)
    {
        read().Write(response);
        return default;
    }

    public ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload, PeerIdentity peer, CancellationToken cancellationToken) =>
        throw new MeshProtocolException("Stats requests expect an answer; a one-way stats message means nothing.");
}
