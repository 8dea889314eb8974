using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>
/// TLS refused the connection: the peer's certificate does not chain to the cluster CA, it sent
/// none, or no ALPN protocol is common. <see cref="QuicTransportException.ErrorCode"/> is
/// 0x100 + the TLS alert where the peer sent one.
/// </summary>
internal sealed class QuicHandshakeException(ulong errorCode, string message)
    : QuicTransportException(QuicStatus.HandshakeFailed, errorCode, message)
{
    /// <summary>The TLS alert (RFC 8446, section 6) carried by the QUIC CRYPTO_ERROR, if any.</summary>
    public int? TlsAlert => ErrorCode is >= 0x100 and <= 0x1ff ? (int)(ErrorCode - 0x100) : null;
}
