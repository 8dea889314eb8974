using System.Net;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Quic;

/// <summary>Log messages of the QUIC transport (event ids 1100-1119).</summary>
internal static partial class QuicTransportLog
{
    [LoggerMessage(1100, LogLevel.Warning, "QUIC: refused a peer at the handshake ({Kind}): {Reason}")]
    public static partial void PeerRefused(ILogger logger, string kind, string reason);

    [LoggerMessage(1101, LogLevel.Warning, "QUIC: {EndPoint} refused this node at the handshake ({Kind}): {Reason}")]
    public static partial void RefusedByPeer(ILogger logger, EndPoint endPoint, string kind, string reason);

    [LoggerMessage(1102, LogLevel.Information, "QUIC: listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(1103, LogLevel.Debug, "QUIC: connection to {EndPoint} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, EndPoint endPoint, string reason);

    [LoggerMessage(1104, LogLevel.Warning, "QUIC: dropped an inbound stream that did not start with the Mesh stream header")]
    public static partial void BadStreamHeader(ILogger logger);

    [LoggerMessage(1105, LogLevel.Error, "QUIC: the listener on {EndPoint} stopped accepting")]
    public static partial void AcceptLoopFailed(ILogger logger, EndPoint endPoint, Exception exception);

    [LoggerMessage(1110, LogLevel.Warning, "The QUIC transport is unavailable, using TCP instead: {Reason}")]
    public static partial void FallingBackToTcp(ILogger logger, string reason, Exception exception);
}
