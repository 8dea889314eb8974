using System.Buffers;

namespace Mesh.Transport.Framing;

/// <summary>What a <see cref="FramedConnection"/> does with the requests and one-way messages its peer sends (the node
/// dispatches actor calls through it). Called on the connection's read loop, one frame at a time: the next frame is
/// read once the returned task completes, so a slow handler slows its peer (backpressure) and should hand long work
/// elsewhere.</summary>
internal interface IFrameHandler
{
    /// <summary>Handles a request: writes the response payload into <paramref name="response"/>. An exception is sent
    /// back as an <see cref="FrameKind.Error"/> frame with its message, and the connection keeps working.</summary>
    /// <param name="connection">The connection the request came on.</param>
    /// <param name="payload">The request payload; valid only until the returned task completes.</param>
    /// <param name="response">Where to write the response payload (a pooled buffer; nothing is sent until the task completes).</param>
    /// <param name="cancellationToken">Signalled when the connection closes.</param>
    ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken);

    /// <summary>Handles a one-way message. An exception is logged; the connection keeps working.</summary>
    /// <param name="connection">The connection the message came on.</param>
    /// <param name="payload">The payload; valid only until the returned task completes.</param>
    /// <param name="cancellationToken">Signalled when the connection closes.</param>
    ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken);
}
