using System.IO.Pipelines;
using System.Net;

namespace Mesh.Transport;

/// <summary>
/// How nodes reach each other: QUIC (the default), TCP with TLS 1.3 (the fallback) or in memory (unit tests).
/// A transport only moves authenticated, ordered bytes; framing, correlation, coalescing and backpressure live above
/// it, in one place shared by all three.
/// </summary>
internal interface ITransport : IAsyncDisposable
{
    /// <summary>Gets the transport's name as <c>MeshOptions</c> spells it: <c>quic</c>, <c>tcp</c> or <c>memory</c>.</summary>
    string Name { get; }

    /// <summary>Starts accepting connections on <paramref name="endPoint"/> (port 0 picks a free port).</summary>
    /// <param name="endPoint">The local address to listen on.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The listener; dispose it to stop accepting.</returns>
    ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken);

    /// <summary>Opens one authenticated byte stream to the node listening on <paramref name="endPoint"/>.</summary>
    /// <param name="endPoint">The remote node's listening address.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connection. A transport that multiplexes (QUIC) opens a new stream on a connection it already holds
    /// to that node; one that does not (TCP) opens a new connection.</returns>
    /// <exception cref="TransportException">The peer cannot be reached or refused the handshake.</exception>
    ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken);
}

/// <summary>Inbound connections of one <see cref="ITransport"/>.</summary>
internal interface ITransportListener : IAsyncDisposable
{
    /// <summary>Gets the address the listener is bound to (with the actual port when port 0 was asked for).</summary>
    EndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next inbound connection whose peer passed authentication. Peers that fail it never appear
    /// here: the transport refuses them at the handshake, logs and counts the refusal.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The connection, or <see langword="null"/> once the listener is disposed.</returns>
    ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One reliable, ordered, mutually authenticated byte stream between two nodes: a QUIC bidirectional stream, a TLS
/// connection over TCP, or a pair of in-memory pipes. Completing <see cref="IDuplexPipe.Output"/> closes the sending
/// direction gracefully (the peer reads everything sent, then the end); <see cref="Abort"/> closes both at once.
/// When the peer goes away, reads end (completed, or with a <see cref="TransportException"/>) within a bounded time.
/// </summary>
internal interface ITransportConnection : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Gets the peer's address, when the transport has one.</summary>
    EndPoint? RemoteEndPoint { get; }

    /// <summary>Gets who the peer proved to be at the handshake.</summary>
    PeerIdentity Peer { get; }

    /// <summary>
    /// Closes both directions at once, discarding unsent data; the peer sees an error, not a clean end. Safe from any
    /// thread, while the connection's owner reads and writes.
    /// </summary>
    /// <param name="reason">Why, for the logs of both sides where the transport can carry it.</param>
    void Abort(string reason);
}

/// <summary>The identity a peer proved at the TLS handshake.</summary>
/// <param name="Subject">The subject of the peer's certificate (for the in-memory transport, the name it was given).</param>
/// <param name="Thumbprint">The SHA-256 thumbprint of the peer's certificate, upper-case hex.</param>
internal readonly record struct PeerIdentity(string Subject, string Thumbprint);

/// <summary>A transport failed: the peer cannot be reached, refused us, or broke the protocol.</summary>
internal class TransportException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TransportException"/> class.</summary>
    public TransportException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TransportException"/> class.</summary>
    /// <param name="message">What failed, and what to do about it.</param>
    public TransportException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TransportException"/> class.</summary>
    /// <param name="message">What failed, and what to do about it.</param>
    /// <param name="innerException">The cause.</param>
    public TransportException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
