using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// A failure reported by the native QUIC library: its <see cref="Status"/>, the QUIC or application
/// <see cref="ErrorCode"/> where there is one, and the native message. Derived types name the
/// failures callers handle differently.
/// </summary>
internal class QuicTransportException : Exception
{
    public QuicTransportException(QuicStatus status, ulong errorCode, string message)
        : base(message)
    {
        Status = status;
        ErrorCode = errorCode;
    }

    /// <summary>The native status code.</summary>
    public QuicStatus Status { get; }

    /// <summary>The QUIC transport error code (a TLS alert is 0x100 + alert) or the peer's application code; 0 if none.</summary>
    public ulong ErrorCode { get; }

    /// <summary>The exception type matching <paramref name="status"/>.</summary>
    public static QuicTransportException Create(QuicStatus status, ulong errorCode, string message) => status switch
    {
        QuicStatus.HandshakeFailed => new QuicHandshakeException(errorCode, message),
        QuicStatus.ConnectionClosed or QuicStatus.ConnectionLost or QuicStatus.TimedOut or QuicStatus.Closed
            => new QuicConnectionException(status, errorCode, message),
        QuicStatus.StreamAborted => new QuicStreamAbortedException(errorCode, message),
        QuicStatus.InvalidConfig => new QuicConfigurationException(message),
        _ => new QuicTransportException(status, errorCode, message),
    };
}
