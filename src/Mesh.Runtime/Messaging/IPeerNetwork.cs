using Mesh.Transport.Framing;

namespace Mesh.Messaging;

/// <summary>
/// What subsystems other than the call path (membership) need from the node's messaging: a request/response and a
/// one-way message to the node listening on an endpoint, over the node's long-lived, authenticated connection to it.
/// The implementation connects on first use, reconnects after a failure, and prefixes each payload with its
/// <see cref="ClusterService"/> byte.
/// </summary>
internal interface IPeerNetwork
{
    /// <summary>Sends a request to the node listening on <paramref name="endpoint"/> and waits for its answer.</summary>
    /// <param name="endpoint">The peer's <c>host:port</c>.</param>
    /// <param name="service">The subsystem that handles the request on the peer.</param>
    /// <param name="payload">The request, without the service byte.</param>
    /// <param name="timeout">How long to wait for the answer, connecting included.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The answer; dispose it.</returns>
    /// <exception cref="Mesh.Transport.TransportException">The peer cannot be reached or refused the handshake.</exception>
    /// <exception cref="ConnectionClosedException">The connection closed before the answer came.</exception>
    /// <exception cref="RemoteRequestException">The peer's handler failed; the message says why.</exception>
    /// <exception cref="TimeoutException">No answer within <paramref name="timeout"/>.</exception>
    ValueTask<FramePayload> RequestAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Sends a one-way message to the node listening on <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The peer's <c>host:port</c>.</param>
    /// <param name="service">The subsystem that handles the message on the peer.</param>
    /// <param name="payload">The message, without the service byte.</param>
    /// <param name="cancellationToken">Stops connecting or waiting for room in the send queue.</param>
    /// <returns>A task that completes once the message is queued for sending.</returns>
    ValueTask SendOneWayAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>Tells the network what membership learned about the node on <paramref name="endpoint"/>: a node declared
    /// <see cref="MembershipChangeKind.Down"/> has its connection closed at once (calls waiting on it fail instead of
    /// timing out); a node <see cref="MembershipChangeKind.Up"/> or <see cref="MembershipChangeKind.Alive"/> again is
    /// connected on the next call even if connecting to it failed recently. Other kinds change nothing.</summary>
    /// <param name="endpoint">The node's <c>host:port</c>.</param>
    /// <param name="kind">What happened to it.</param>
    void OnMemberChanged(string endpoint, MembershipChangeKind kind);
}
