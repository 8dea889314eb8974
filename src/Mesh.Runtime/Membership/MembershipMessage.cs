namespace Mesh.Membership;

/// <summary>One run of a node: its name and the incarnation of its process start.</summary>
internal readonly record struct MemberId(string Name, long Incarnation)
{
    public override string ToString() => $"{Name}#{Incarnation}";
}

/// <summary>What one node says about one member: the unit of gossip and of state exchanges. Self-contained, so a node
/// that never heard of the member can add it.</summary>
/// <param name="Name">The member's name.</param>
/// <param name="Incarnation">The member's run (process start); a higher one replaces the member.</param>
/// <param name="Epoch">The member's own counter within the run, raised by the member to refute a suspicion or to
/// announce new capabilities; a suspicion or death is about one epoch.</param>
/// <param name="Status">What the sender believes.</param>
/// <param name="Endpoint">The member's <c>host:port</c>.</param>
/// <param name="Capabilities">The member's capabilities.</param>
internal sealed record MemberUpdate(string Name, long Incarnation, long Epoch, MeshNodeStatus Status, string? Endpoint, IReadOnlySet<string> Capabilities)
{
    public MemberId Id => new(Name, Incarnation);
}

/// <summary>The kinds of membership message; the second byte of each.</summary>
internal enum MembershipMessageType : byte
{
    /// <summary>A direct probe of <see cref="MembershipMessage.Target"/>; answered with <see cref="Ack"/>.</summary>
    Ping = 1,

    /// <summary>The answer to a probe: who answered, and gossip.</summary>
    Ack = 2,

    /// <summary>Asks the receiver to probe <see cref="MembershipMessage.Target"/> on this node's behalf (one-way; the
    /// answer is a <see cref="PingRequestAck"/> sent to <see cref="MembershipMessage.ReplyTo"/>).</summary>
    PingRequest = 3,

    /// <summary>The answer to an indirect probe (one-way): whether the target answered the helper.</summary>
    PingRequestAck = 4,

    /// <summary>A full state exchange (push): the sender's whole view and the settings that must agree.</summary>
    Sync = 5,

    /// <summary>The answer to a <see cref="Sync"/> (pull): the receiver's whole view.</summary>
    SyncAck = 6,

    /// <summary>The answer to a <see cref="Sync"/> from a node whose settings differ: which setting, and why.</summary>
    Refused = 7,

    /// <summary>Gossip alone, such as a graceful leave; answered with an <see cref="Ack"/>.</summary>
    Gossip = 8,
}

/// <summary>A decoded membership message. Which fields mean something depends on <see cref="Type"/> (see
/// <see cref="MembershipCodec"/> for the layout of each).</summary>
internal sealed class MembershipMessage
{
    public required MembershipMessageType Type { get; init; }

    public required MemberId Sender { get; init; }

    /// <summary>The member probed (<see cref="MembershipMessageType.Ping"/>, <see cref="MembershipMessageType.PingRequest"/>).</summary>
    public MemberId Target { get; init; }

    /// <summary>Where the target listens (<see cref="MembershipMessageType.PingRequest"/>).</summary>
    public string TargetEndpoint { get; init; } = string.Empty;

    /// <summary>Where the helper of an indirect probe sends its answer (<see cref="MembershipMessageType.PingRequest"/>).</summary>
    public string ReplyTo { get; init; } = string.Empty;

    /// <summary>Matches an indirect probe's answer to its request.</summary>
    public long Sequence { get; init; }

    /// <summary>Whether the target answered the helper (<see cref="MembershipMessageType.PingRequestAck"/>).</summary>
    public bool Reached { get; init; }

    /// <summary>Whether a <see cref="MembershipMessageType.Sync"/> is the sender's join.</summary>
    public bool IsJoin { get; init; }

    public int ProtocolVersion { get; init; }

    public string ClusterName { get; init; } = string.Empty;

    public int ShardCount { get; init; }

    /// <summary>The setting that differs (<see cref="MembershipMessageType.Refused"/>).</summary>
    public string RefusedSetting { get; init; } = string.Empty;

    /// <summary>Why the sender was refused (<see cref="MembershipMessageType.Refused"/>).</summary>
    public string RefusalMessage { get; init; } = string.Empty;

    /// <summary>Gossip, or the whole view in a state exchange.</summary>
    public IReadOnlyList<MemberUpdate> Updates { get; init; } = [];
}
