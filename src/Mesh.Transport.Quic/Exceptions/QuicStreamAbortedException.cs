using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>The peer reset or stopped the stream; <see cref="QuicTransportException.ErrorCode"/> is its application code.</summary>
internal sealed class QuicStreamAbortedException(ulong errorCode, string message)
    : QuicTransportException(QuicStatus.StreamAborted, errorCode, message);
