using System.Net;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tcp;

/// <summary>Log messages of the TCP transport (event ids 300-309).</summary>
internal static partial class TcpLog
{
    [LoggerMessage(300, LogLevel.Warning, "Refused {RemoteEndPoint} at the TLS handshake ({Kind}): {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, EndPoint? remoteEndPoint, string kind, string reason);

    [LoggerMessage(301, LogLevel.Debug, "Accepted {RemoteEndPoint} as {Subject} (SHA-256 {Thumbprint})")]
    public static partial void Accepted(ILogger logger, EndPoint? remoteEndPoint, string subject, string thumbprint);

    [LoggerMessage(302, LogLevel.Information, "Listening for TCP+TLS connections on {LocalEndPoint}")]
    public static partial void Listening(ILogger logger, EndPoint localEndPoint);

    [LoggerMessage(303, LogLevel.Error, "Accepting TCP connections on {LocalEndPoint} failed; the listener stops")]
    public static partial void AcceptFailed(ILogger logger, EndPoint localEndPoint, Exception exception);

    [LoggerMessage(306, LogLevel.Warning, "Accepting a TCP connection on {LocalEndPoint} failed ({SocketError}); the listener goes on")]
    public static partial void AcceptRetried(ILogger logger, EndPoint localEndPoint, System.Net.Sockets.SocketError socketError, Exception exception);

    [LoggerMessage(304, LogLevel.Debug, "The connection with {RemoteEndPoint} failed")]
    public static partial void ConnectionFailed(ILogger logger, EndPoint? remoteEndPoint, Exception exception);

    [LoggerMessage(305, LogLevel.Debug, "Connection with {RemoteEndPoint} aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, EndPoint? remoteEndPoint, string reason);
}
