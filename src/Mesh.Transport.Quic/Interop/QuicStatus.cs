namespace Mesh.Transport.Quic.Interop;

/// <summary>Status codes of the native library (<c>Status</c> in native/src/error.rs); the numbers are ABI.</summary>
internal enum QuicStatus
{
    Ok = 0,
    InvalidArgument = 1,
    InvalidConfig = 2,
    Io = 3,
    ConnectFailed = 4,
    HandshakeFailed = 5,
    ConnectionClosed = 6,
    ConnectionLost = 7,
    TimedOut = 8,
    StreamAborted = 9,
    Closed = 10,
    InvalidState = 11,
    Internal = 12,
    Panic = 13,
}
