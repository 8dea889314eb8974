using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// The connection ended: closed by the peer (<see cref="QuicStatus.ConnectionClosed"/>, with its
/// application code), broken (<see cref="QuicStatus.ConnectionLost"/>), idle for too long
/// (<see cref="QuicStatus.TimedOut"/>) or closed locally (<see cref="QuicStatus.Closed"/>).
/// </summary>
internal sealed class QuicConnectionException(QuicStatus status, ulong errorCode, string message)
    : QuicTransportException(status, errorCode, message);
