using Microsoft.Extensions.Logging;

namespace Mesh.Membership;

/// <summary>Log messages of membership (event ids 500–549).</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(500, LogLevel.Information, "Joined the cluster through {Seed}: {Members} members known")]
    public static partial void Joined(ILogger logger, string seed, int members);

    [LoggerMessage(501, LogLevel.Debug, "Could not join through {Seed}")]
    public static partial void JoinAttemptFailed(ILogger logger, string seed, Exception exception);

    [LoggerMessage(502, LogLevel.Warning, "No seed of {Seeds} answered; running alone and trying again every {Interval}")]
    public static partial void NoSeedAnswered(ILogger logger, string seeds, TimeSpan interval);

    [LoggerMessage(503, LogLevel.Error, "{Seed} refused this node: {Reason}")]
    public static partial void JoinRefused(ILogger logger, string seed, string reason);

    [LoggerMessage(504, LogLevel.Warning, "Refused {Node} at {Peer}: {Reason}")]
    public static partial void RefusedNode(ILogger logger, string node, string peer, string reason);

    [LoggerMessage(505, LogLevel.Information, "{Node} joined")]
    public static partial void MemberUp(ILogger logger, MeshNode node);

    [LoggerMessage(506, LogLevel.Information, "{Node} is suspected")]
    public static partial void MemberSuspected(ILogger logger, MeshNode node);

    [LoggerMessage(507, LogLevel.Information, "{Node} refuted its suspicion")]
    public static partial void MemberAlive(ILogger logger, MeshNode node);

    [LoggerMessage(508, LogLevel.Warning, "{Node} is down")]
    public static partial void MemberDown(ILogger logger, MeshNode node);

    [LoggerMessage(509, LogLevel.Information, "{Node} left")]
    public static partial void MemberLeft(ILogger logger, MeshNode node);

    [LoggerMessage(510, LogLevel.Warning, "This node was suspected or declared down (epoch {Epoch}); refuting with epoch {NewEpoch}")]
    public static partial void Refuting(ILogger logger, long epoch, long newEpoch);

    [LoggerMessage(511, LogLevel.Warning, "Rejected a malformed membership message from {Peer}")]
    public static partial void MalformedMessage(ILogger logger, string peer, Exception exception);

    [LoggerMessage(512, LogLevel.Debug, "State exchange with {Endpoint} failed")]
    public static partial void SyncFailed(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(513, LogLevel.Information, "Left the cluster: {Acknowledged} of {Members} members acknowledged")]
    public static partial void LeftCluster(ILogger logger, int acknowledged, int members);

    [LoggerMessage(514, LogLevel.Error, "A membership view handler failed")]
    public static partial void ViewHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(515, LogLevel.Error, "The membership {Loop} loop failed; it restarts after {Delay}")]
    public static partial void LoopFailed(ILogger logger, string loop, TimeSpan delay, Exception exception);

    [LoggerMessage(516, LogLevel.Warning, "Another run of this node's name ({Other}) is in the cluster; node names must be unique")]
    public static partial void NameConflict(ILogger logger, string other);

    [LoggerMessage(517, LogLevel.Debug, "DNS discovery resolved {Host} to {Count} addresses")]
    public static partial void DnsResolved(ILogger logger, string host, int count);

    [LoggerMessage(518, LogLevel.Warning, "DNS discovery could not resolve {Host}; keeping the last answer")]
    public static partial void DnsFailed(ILogger logger, string host, Exception exception);

    [LoggerMessage(519, LogLevel.Information, "{Node} announced capabilities {Capabilities}")]
    public static partial void CapabilitiesChanged(ILogger logger, MeshNode node, string capabilities);

    [LoggerMessage(520, LogLevel.Information, "{Old} was replaced by {New}, a newer run at the same name or endpoint")]
    public static partial void MemberReplaced(ILogger logger, MeshNode old, MeshNode @new);

    [LoggerMessage(521, LogLevel.Debug, "{Node} at {Peer} joins through this node")]
    public static partial void JoinedThroughThisNode(ILogger logger, string node, string peer);

    [LoggerMessage(522, LogLevel.Error, "The view holds the most members a state exchange can carry ({Max}); ignoring {Node} and any further new member")]
    public static partial void ViewFull(ILogger logger, int max, string node);
}
