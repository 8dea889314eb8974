using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Runtime;

/// <summary>The runtime's instruments on the <c>Mesh</c> meter (for OpenTelemetry or <c>dotnet-counters</c>; names and
/// units after OpenTelemetry's semantic conventions, listed in docs/telemetry.md), and plain counts readable by tests.
/// Recording with nobody listening costs an enabled-check; the observable instruments cost nothing until collected.</summary>
internal sealed class MeshMetrics : IDisposable
{
    /// <summary>Bucket boundaries of <c>mesh.call.duration</c>, in seconds: a warm local call takes microseconds and a
    /// remote one tens to hundreds of microseconds, far below OpenTelemetry's default buckets (which start at 5 ms).</summary>
    private static readonly double[] DurationBuckets = [0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter = new(MeshTelemetry.Name, MeshTelemetry.Version);
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _callDuration;
    private readonly Counter<long> _activations;
    private readonly Counter<long> _deactivations;
    private readonly Counter<long> _shardMoves;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _rejected;
    private long _activationCount;
    private long _deactivationCount;
    private long _timeoutCount;
    private long _failureCount;
    private long _rejectedCount;

    /// <param name="runtime">The node whose live activations and mailboxes the observable instruments read.</param>
    public MeshMetrics(MeshRuntime runtime)
    {
        _calls = _meter.CreateCounter<long>("mesh.calls", "{call}", "Calls and one-way messages made through actor proxies on this node, by outcome.");
        _callDuration = _meter.CreateHistogram("mesh.call.duration", "s", "How long calls made on this node took, from the proxy call to the answer.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _activations = _meter.CreateCounter<long>("mesh.activations", "{activation}", "Actors activated on this node.");
        _deactivations = _meter.CreateCounter<long>("mesh.deactivations", "{activation}", "Actors deactivated on this node, by reason.");
        _shardMoves = _meter.CreateCounter<long>("mesh.shard.moves", "{shard}", "Shards whose owner changed in this node's view, by capability.");
        _timeouts = _meter.CreateCounter<long>("mesh.call.timeouts", "{call}", "Calls that exceeded their timeout, counted where it was noticed (caller or owner).");
        _failures = _meter.CreateCounter<long>("mesh.call.failures", "{call}", "Calls whose actor threw, counted on the node that ran the actor.");
        _rejected = _meter.CreateCounter<long>("mesh.call.rejections", "{call}", "Calls refused on this node: mailbox full, capability unavailable, node stopping, malformed or unknown target.");
        _meter.CreateObservableUpDownCounter("mesh.activation.count", () => runtime.ActivationCount, "{activation}", "Live activations on this node.");
        _meter.CreateObservableUpDownCounter("mesh.mailbox.messages", () => runtime.ReadMailboxes().Queued, "{message}", "Messages waiting in the mailboxes of this node's activations.");
        _meter.CreateObservableGauge("mesh.mailbox.max_depth", () => runtime.ReadMailboxes().Deepest, "{message}", "Messages waiting in this node's fullest mailbox.");
    }

    /// <summary>Gets the meter, so tests listen to this node's instruments only.</summary>
    public Meter Meter => _meter;

    /// <summary>Gets whether calls are measured (a listener on <c>mesh.calls</c> or <c>mesh.call.duration</c>) or
    /// traced; when not, the proxy takes the unobserved path.</summary>
    public bool CallsObserved => _calls.Enabled || _callDuration.Enabled || MeshTelemetry.Source.HasListeners();

    public long Activations => Volatile.Read(ref _activationCount);

    public long Deactivations => Volatile.Read(ref _deactivationCount);

    public long Timeouts => Volatile.Read(ref _timeoutCount);

    public long Failures => Volatile.Read(ref _failureCount);

    public long Rejected => Volatile.Read(ref _rejectedCount);

    /// <summary>Records a call made through a proxy on this node.</summary>
    /// <param name="capability">The actor's capability.</param>
    /// <param name="outcome">One of the <see cref="CallOutcome"/> constants.</param>
    /// <param name="remote">Whether the call went to another node.</param>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> taken when the call started.</param>
    public void CallEnded(string capability, string outcome, bool remote, long started)
    {
        var capabilityTag = new KeyValuePair<string, object?>(MeshTelemetry.CapabilityTag, capability);
        var outcomeTag = new KeyValuePair<string, object?>(CallOutcome.Tag, outcome);
        var locationTag = new KeyValuePair<string, object?>(CallOutcome.LocationTag, remote ? CallOutcome.Remote : CallOutcome.Local);
        _calls.Add(1, capabilityTag, outcomeTag, locationTag);
        if (_callDuration.Enabled)
        {
            _callDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, capabilityTag, outcomeTag, locationTag);
        }
    }

    public void Activated(string capability)
    {
        Interlocked.Increment(ref _activationCount);
        _activations.Add(1, new KeyValuePair<string, object?>(MeshTelemetry.CapabilityTag, capability));
    }

    public void Deactivated(string capability, DeactivationReason reason)
    {
        Interlocked.Increment(ref _deactivationCount);
        _deactivations.Add(1, new KeyValuePair<string, object?>(MeshTelemetry.CapabilityTag, capability), new KeyValuePair<string, object?>("mesh.deactivation.reason", ReasonName(reason)));
    }

    /// <summary>Gets whether <c>mesh.shard.moves</c> is listened to: comparing two routing tables is then worth it.</summary>
    public bool ShardMovesObserved => _shardMoves.Enabled;

    public void ShardsMoved(string capability, int count) => _shardMoves.Add(count, new KeyValuePair<string, object?>(MeshTelemetry.CapabilityTag, capability));

    public void TimedOut()
    {
        Interlocked.Increment(ref _timeoutCount);
        _timeouts.Add(1);
    }

    public void ActorFailed()
    {
        Interlocked.Increment(ref _failureCount);
        _failures.Add(1);
    }

    public void CallRejected()
    {
        Interlocked.Increment(ref _rejectedCount);
        _rejected.Add(1);
    }

    public void Dispose() => _meter.Dispose();

    private static string ReasonName(DeactivationReason reason) => reason switch
    {
        DeactivationReason.Idle => "idle",
        DeactivationReason.Requested => "requested",
        DeactivationReason.Shutdown => "shutdown",
        DeactivationReason.Rebalanced => "rebalanced",
        DeactivationReason.ActivationFailed => "activation_failed",
        _ => "other",
    };
}
