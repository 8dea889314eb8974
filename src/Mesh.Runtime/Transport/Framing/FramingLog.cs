using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Framing;

/// <summary>Log messages of the framing layer (event ids 100–109, listed in docs/transport.md).</summary>
internal static partial class FramingLog
{
    [LoggerMessage(100, LogLevel.Warning, "Closing the {Transport} connection with {Peer}: malformed frame ({Reason})")]
    public static partial void MalformedFrame(ILogger logger, string transport, string peer, FrameFormatError reason, Exception exception);

    [LoggerMessage(101, LogLevel.Information, "The {Transport} connection with {Peer} failed")]
    public static partial void ConnectionFailed(ILogger logger, string transport, string peer, Exception exception);

    [LoggerMessage(102, LogLevel.Warning, "A request from {Peer} failed in its handler; the peer gets an error frame")]
    public static partial void RequestHandlerFailed(ILogger logger, string peer, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "A one-way message from {Peer} failed in its handler")]
    public static partial void OneWayHandlerFailed(ILogger logger, string peer, Exception exception);

    [LoggerMessage(104, LogLevel.Debug, "Dropped a {Kind} frame #{CorrelationId} from {Peer}: its request completed already (timed out or cancelled)")]
    public static partial void LateResponseDropped(ILogger logger, FrameKind kind, ulong correlationId, string peer);

    [LoggerMessage(105, LogLevel.Debug, "The {Transport} connection with {Peer} closed")]
    public static partial void ConnectionClosed(ILogger logger, string transport, string peer);

    [LoggerMessage(106, LogLevel.Warning, "The {Transport} connection with {Peer} did not close within {Timeout}; aborting it")]
    public static partial void CloseTimedOut(ILogger logger, string transport, string peer, TimeSpan timeout);
}
