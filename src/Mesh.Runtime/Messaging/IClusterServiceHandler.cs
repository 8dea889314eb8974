using System.Buffers;
using Mesh.Transport;

namespace Mesh.Messaging;

/// <summary>A subsystem that answers what peers send it (membership registers one for
/// <see cref="ClusterService.Membership"/>). Called on a connection's read loop: return quickly.</summary>
internal interface IClusterServiceHandler
{
    /// <summary>Answers a request: writes the answer into <paramref name="response"/>. An exception goes back to the
    /// sender as an error with its message.</summary>
    /// <param name="payload">The request, without the service byte; valid until the returned task completes.</param>
    /// <param name="response">Where to write the answer.</param>
    /// <param name="peer">Who sent it, as its certificate proved.</param>
    /// <param name="cancellationToken">Signalled when the connection closes.</param>
    /// <returns>A task that completes when the answer is written.</returns>
    ValueTask HandleRequestAsync(ReadOnlySequence<byte> payload, IBufferWriter<byte> response, PeerIdentity peer, CancellationToken cancellationToken);

    /// <summary>Handles a one-way message.</summary>
    /// <param name="payload">The message, without the service byte; valid until the returned task completes.</param>
    /// <param name="peer">Who sent it.</param>
    /// <param name="cancellationToken">Signalled when the connection closes.</param>
    /// <returns>A task that completes when the message is handled.</returns>
    ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload, PeerIdentity peer, CancellationToken cancellationToken);
}
