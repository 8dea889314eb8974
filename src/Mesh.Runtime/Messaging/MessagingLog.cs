using Microsoft.Extensions.Logging;

namespace Mesh.Messaging;

/// <summary>Log messages of peer connections and remote calls (event ids 400–449).</summary>
internal static partial class MessagingLog
{
    [LoggerMessage(400, LogLevel.Information, "Listening for peers on {EndPoint} ({Transport})")]
    public static partial void Listening(ILogger logger, string endPoint, string transport);

    [LoggerMessage(401, LogLevel.Warning, "Accepting peer connections failed; the listener stops")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(402, LogLevel.Information, "Connecting to the peer at {Endpoint} failed; calls to it fail for {Backoff} before the next attempt")]
    public static partial void ConnectFailed(ILogger logger, string endpoint, TimeSpan backoff, Exception exception);

    [LoggerMessage(403, LogLevel.Warning, "{Peer} sent a request for the unknown cluster service {Service}")]
    public static partial void UnknownService(ILogger logger, string peer, byte service);

    [LoggerMessage(404, LogLevel.Warning, "{Peer} sent a call the node cannot read: {Reason}")]
    public static partial void MalformedCall(ILogger logger, string peer, string reason);

    [LoggerMessage(405, LogLevel.Warning, "{Peer} called the actor type {ActorType} with capability {Capability}, which this node does not implement")]
    public static partial void UnknownActor(ILogger logger, string peer, string actorType, string capability);

    [LoggerMessage(406, LogLevel.Debug, "Forwarding a call to {Actor} to its owner {Owner} (hop {Hops})")]
    public static partial void Forwarding(ILogger logger, ActorId actor, string owner, int hops);

    [LoggerMessage(407, LogLevel.Warning, "Forwarding a call to {Actor} to {Owner} failed")]
    public static partial void ForwardFailed(ILogger logger, ActorId actor, string owner, Exception exception);

    [LoggerMessage(408, LogLevel.Information, "{Count} activations no longer owned by this node are being deactivated (membership version {Version})")]
    public static partial void Rebalancing(ILogger logger, int count, long version);

    [LoggerMessage(409, LogLevel.Warning, "A one-way message from another node to {Actor} was dropped: {Reason}")]
    public static partial void OneWayRefused(ILogger logger, ActorId actor, string reason);

    [LoggerMessage(410, LogLevel.Error, "Handling a call from {Peer} failed unexpectedly; the caller gets an error answer")]
    public static partial void CallFailed(ILogger logger, string peer, Exception exception);

    [LoggerMessage(411, LogLevel.Information, "Membership declared the peer at {Endpoint} down: aborting the connection to it")]
    public static partial void DroppingConnection(ILogger logger, string endpoint);

    [LoggerMessage(412, LogLevel.Debug, "Closing a spare connection (two attempts to one peer both connected) failed")]
    public static partial void SpareCloseFailed(ILogger logger, Exception exception);
}
