using Microsoft.Extensions.Logging;

namespace Mesh.Runtime;

/// <summary>The runtime's log messages.</summary>
internal sealed partial class MeshLog
{
    private readonly ILogger _logger;

    public MeshLog(ILogger logger)
    {
        _logger = logger;
    }

    /// <summary>Gets the runtime's logger, for the log classes of its subsystems.</summary>
    public ILogger Logger => _logger;

    [LoggerMessage(1, LogLevel.Error, "Activating {Actor} failed")]
    public partial void ActivationFailed(ActorId actor, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Deactivating {Actor} failed")]
    public partial void DeactivationFailed(ActorId actor, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "One-way message {Method} to {Actor} failed")]
    public partial void OneWayFailed(ActorId actor, string method, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "{Method} on {Actor} failed after its caller had stopped waiting")]
    public partial void LateFailure(ActorId actor, string method, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Mesh node started with capabilities {Capabilities}")]
    public partial void Started(string capabilities);

    [LoggerMessage(6, LogLevel.Warning, "{Count} activations did not deactivate within the shutdown timeout of {Timeout}")]
    public partial void ShutdownTimedOut(int count, TimeSpan timeout);

    [LoggerMessage(7, LogLevel.Warning, "A MembershipChanged handler failed on {Kind} of {Node}")]
    public partial void MembershipHandlerFailed(MembershipChangeKind kind, string node, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "A callback on the cancellation token of {Method} on {Actor} threw when the call was {Reason}")]
    public partial void CancellationCallbackFailed(ActorId actor, string method, string reason, Exception exception);
}
