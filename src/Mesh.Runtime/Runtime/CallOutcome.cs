namespace Mesh.Runtime;

/// <summary>The values of the <c>mesh.outcome</c> tag of <c>mesh.calls</c> and <c>mesh.call.duration</c>: few and fixed,
/// so they cost no cardinality.</summary>
internal static class CallOutcome
{
    public const string Tag = "mesh.outcome";
    public const string LocationTag = "mesh.call.location";
    public const string Local = "local";
    public const string Remote = "remote";

    /// <summary>The actor answered.</summary>
    public const string Ok = "ok";

    /// <summary>The actor threw, or the call failed on the way (owner unreachable, protocol error).</summary>
    public const string Error = "error";

    /// <summary>No answer within the call timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>Refused before the actor ran: mailbox full, capability unavailable, node stopping.</summary>
    public const string Rejected = "rejected";

    /// <summary>The caller cancelled.</summary>
    public const string Canceled = "canceled";

    /// <summary>Classifies what a call threw.</summary>
    public static string Of(Exception exception) => exception switch
    {
        MeshTimeoutException => Timeout,
        OperationCanceledException => Canceled,
        MailboxFullException or CapabilityUnavailableException => Rejected,
        ActorInvocationException or ActorActivationException or NodeUnreachableException or MeshProtocolException => Error,

        // The runtime's remaining refusals (node shutting down) are plain MeshExceptions.
        MeshException => Rejected,
        _ => Error,
    };
}
