using System.Diagnostics.Metrics;

namespace Mesh.Runtime;

/// <summary>The runtime's counters, published on the <c>Mesh</c> meter for OpenTelemetry or <c>dotnet-counters</c>, and
/// readable by tests.</summary>
internal sealed class MeshMetrics : IDisposable
{
    private readonly Meter _meter = new("Mesh", "0.1.0");
    private readonly Counter<long> _activations;
    private readonly Counter<long> _deactivations;
    private readonly Counter<long> _timeouts;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _rejected;
    private long _activationCount;
    private long _deactivationCount;
    private long _timeoutCount;
    private long _failureCount;
    private long _rejectedCount;

    public MeshMetrics()
    {
        _activations = _meter.CreateCounter<long>("mesh.activations", description: "Actors activated on this node.");
        _deactivations = _meter.CreateCounter<long>("mesh.deactivations", description: "Actors deactivated on this node.");
        _timeouts = _meter.CreateCounter<long>("mesh.calls.timed_out", description: "Calls that exceeded their timeout.");
        _failures = _meter.CreateCounter<long>("mesh.calls.failed", description: "Calls whose actor threw.");
        _rejected = _meter.CreateCounter<long>("mesh.calls.rejected", description: "Calls refused: mailbox full, capability unavailable, node stopping.");
    }

    public long Activations => Volatile.Read(ref _activationCount);

    public long Deactivations => Volatile.Read(ref _deactivationCount);

    public long Timeouts => Volatile.Read(ref _timeoutCount);

    public long Failures => Volatile.Read(ref _failureCount);

    public long Rejected => Volatile.Read(ref _rejectedCount);

    public void Activated()
    {
        Interlocked.Increment(ref _activationCount);
        _activations.Add(1);
    }

    public void Deactivated()
    {
        Interlocked.Increment(ref _deactivationCount);
        _deactivations.Add(1);
    }

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
}
