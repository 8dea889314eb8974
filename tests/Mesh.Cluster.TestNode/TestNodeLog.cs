using Microsoft.Extensions.Logging;

namespace Mesh.Cluster.TestNode;

/// <summary>The test node's own log messages (event ids 1300-1309).</summary>
internal static partial class TestNodeLog
{
    [LoggerMessage(EventId = 1300, Level = LogLevel.Critical, Message = "The node could not start")]
    public static partial void StartFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Command '{Command}' failed")]
    public static partial void CommandFailed(ILogger logger, string command, Exception exception);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Standard input closed: stopping the node")]
    public static partial void InputClosed(ILogger logger);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "The node did not stop within {Timeout}")]
    public static partial void StopTimedOut(ILogger logger, TimeSpan timeout);
}
