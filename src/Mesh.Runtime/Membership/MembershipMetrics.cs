using System.Diagnostics.Metrics;

namespace Mesh.Membership;

/// <summary>Membership's counters and the members gauge, on the <c>Mesh</c> meter for OpenTelemetry or
/// <c>dotnet-counters</c>, and readable by tests. Thread-safe.</summary>
internal sealed class MembershipMetrics : IDisposable
{
    private readonly Meter _meter = new(Runtime.MeshTelemetry.Name, Runtime.MeshTelemetry.Version);
    private readonly Counter<long> _probesSent;
    private readonly Counter<long> _probesFailed;
    private readonly Counter<long> _suspicions;
    private readonly Counter<long> _refutations;
    private readonly Counter<long> _joinRefusals;
    private readonly Counter<long> _malformed;
    private const string StateTag = "mesh.member.state";
    private int[] _membersByStatus = new int[4];
    private long _probesSentCount;
    private long _probesFailedCount;
    private long _suspicionCount;
    private long _refutationCount;
    private long _joinRefusalCount;
    private long _malformedCount;

    public MembershipMetrics()
    {
        _probesSent = _meter.CreateCounter<long>("mesh.membership.probes.sent", "{probe}", "Direct probes this node sent.");
        _probesFailed = _meter.CreateCounter<long>("mesh.membership.probes.failed", "{probe}", "Probes answered neither directly nor through the indirect probes.");
        _suspicions = _meter.CreateCounter<long>("mesh.membership.suspicions", "{suspicion}", "Members this node started suspecting.");
        _refutations = _meter.CreateCounter<long>("mesh.membership.refutations", "{refutation}", "Suspicions refuted: by this node of itself, or by suspected members it heard from.");
        _joinRefusals = _meter.CreateCounter<long>("mesh.membership.join_refusals", "{node}", "Nodes refused because a setting that must agree differs (cluster name, shard count, protocol version).");
        _malformed = _meter.CreateCounter<long>("mesh.membership.messages.rejected", "{message}", "Membership messages rejected as malformed.");
        _meter.CreateObservableUpDownCounter("mesh.membership.members", ObserveMembers, "{member}", "Members in this node's view, by state.");
    }

    public long ProbesSent => Volatile.Read(ref _probesSentCount);

    public long ProbesFailed => Volatile.Read(ref _probesFailedCount);

    public long Suspicions => Volatile.Read(ref _suspicionCount);

    public long Refutations => Volatile.Read(ref _refutationCount);

    public long JoinRefusals => Volatile.Read(ref _joinRefusalCount);

    public long MalformedMessages => Volatile.Read(ref _malformedCount);

    public int MembersIn(MeshNodeStatus status) => Volatile.Read(ref _membersByStatus)[(int)status];

    public void ProbeSent() => Count(ref _probesSentCount, _probesSent);

    public void ProbeFailed() => Count(ref _probesFailedCount, _probesFailed);

    public void Suspected() => Count(ref _suspicionCount, _suspicions);

    public void Refuted() => Count(ref _refutationCount, _refutations);

    public void JoinRefused() => Count(ref _joinRefusalCount, _joinRefusals);

    public void Malformed() => Count(ref _malformedCount, _malformed);

    /// <summary>Publishes the member counts of a new view (the array is not changed afterwards).</summary>
    public void SetMembers(int[] byStatus) => Volatile.Write(ref _membersByStatus, byStatus);

    public void Dispose() => _meter.Dispose();

    private static void Count(ref long field, Counter<long> counter)
    {
        Interlocked.Increment(ref field);
        counter.Add(1);
    }

    private IEnumerable<Measurement<int>> ObserveMembers()
    {
        int[] counts = Volatile.Read(ref _membersByStatus);
        return
        [
            new(counts[(int)MeshNodeStatus.Up], new KeyValuePair<string, object?>(StateTag, "up")),
            new(counts[(int)MeshNodeStatus.Suspect], new KeyValuePair<string, object?>(StateTag, "suspect")),
            new(counts[(int)MeshNodeStatus.Down], new KeyValuePair<string, object?>(StateTag, "down")),
            new(counts[(int)MeshNodeStatus.Left], new KeyValuePair<string, object?>(StateTag, "left")),
        ];
    }
}
