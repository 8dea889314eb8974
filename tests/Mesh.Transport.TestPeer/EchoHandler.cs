using System.Buffers;
using Mesh.Transport.Framing;

namespace Mesh.Transport.TestPeer;

/// <summary>Answers every request with its own payload, except <see cref="StallPayload"/>, which is never answered (it
/// holds the connection's read loop, so every later request stays in flight). Shared by the test peer process and the
/// in-process tests (linked into Mesh.Transport.Tests).</summary>
internal sealed class EchoHandler : IFrameHandler
{
    /// <summary>The request payload that is never answered.</summary>
    public static ReadOnlySpan<byte> StallPayload => "stall"u8;

    public static EchoHandler Instance { get; } = new();

    public ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken)
    {
        if (payload.Length == StallPayload.Length && payload.FirstSpan.SequenceEqual(StallPayload))
        {
            return new ValueTask(Task.Delay(Timeout.Infinite, cancellationToken));
        }

        foreach (ReadOnlyMemory<byte> segment in payload)
        {
            response.Write(segment.Span);
        }

        return default;
    }

    public ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) => default;
}
