namespace Mesh.Transport.Quic.Interop;

/// <summary>Kinds of <see cref="MeshQuicEvent"/> (<c>EventKind</c> in native/src/events.rs); the numbers are ABI.</summary>
internal enum QuicEventKind : uint
{
    /// <summary>A peer's handshake completed; the event carries the new connection handle.</summary>
    ConnectionAccepted = 1,

    /// <summary>A connect finished; token is the connection's, handle set on success.</summary>
    ConnectCompleted = 2,

    /// <summary>A peer's handshake failed on a server endpoint.</summary>
    IncomingFailed = 3,

    /// <summary>A connection closed; status, aux (QUIC error code) and message tell why.</summary>
    ConnectionClosed = 4,

    /// <summary>The peer opened a stream; token is the connection's, handle the new stream.</summary>
    StreamAccepted = 5,

    /// <summary>Received bytes, lent for the duration of the callback.</summary>
    StreamData = 6,

    /// <summary>The peer finished its send side.</summary>
    StreamFinished = 7,

    /// <summary>The stream was reset by the peer or its connection broke.</summary>
    StreamAborted = 8,

    /// <summary>The send whose token is in aux was written (or failed).</summary>
    SendCompleted = 9,
}
