using System.Diagnostics.Metrics;

namespace Mesh.Benchmarks;

/// <summary>
/// Counts Mesh activations and deactivations from the runtime's own counters (meter <c>Mesh</c>), so a scenario can wait
/// until the actors it asked to deactivate are really gone. Measurements arrive on whichever thread (de)activated an
/// actor, hence the interlocked adds.
/// </summary>
public sealed class MeshActivationCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _activated;
    private long _deactivated;

    public MeshActivationCounter()
    {
        _listener.InstrumentPublished = static (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Mesh" && instrument.Name is "mesh.activations" or "mesh.deactivations")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "mesh.activations")
            {
                Interlocked.Add(ref _activated, value);
            }
            else
            {
                Interlocked.Add(ref _deactivated, value);
            }
        });
        _listener.Start();
    }

    public long Activated => Interlocked.Read(ref _activated);

    public long Deactivated => Interlocked.Read(ref _deactivated);

    public long Live => Activated - Deactivated;

    public void Dispose() => _listener.Dispose();
}
