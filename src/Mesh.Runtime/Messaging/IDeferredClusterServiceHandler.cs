using System.Buffers;
using Mesh.Transport;
using Mesh.Transport.Framing;

namespace Mesh.Messaging;

/// <summary>A cluster service that answers requests later, in any order (actor calls): <see cref="PeerConnections"/>
/// hands it the response to complete, so the connection's read loop goes on at once and a slow actor does not hold
/// up the calls behind it.</summary>
internal interface IDeferredClusterServiceHandler : IClusterServiceHandler
{
    /// <summary>Takes a request; completes <paramref name="response"/> exactly once, now or later.</summary>
    /// <param name="payload">The request, without the service byte; valid only during this call: copy what is kept.</param>
    /// <param name="response">The answer to write and complete.</param>
    /// <param name="peer">Who sent it.</param>
    void HandleRequest(ReadOnlySequence<byte> payload, DeferredResponse response, PeerIdentity peer);
}
