using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Mesh.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace Mesh.Benchmarks;

/// <summary>
/// What telemetry costs a warm local call: the same call with nobody listening (the baseline: telemetry is compiled in
/// and checked, nothing recorded) and with a <see cref="MeterListener"/> on every Mesh instrument and an
/// <see cref="ActivityListener"/> sampling every Mesh span, as an OpenTelemetry SDK would attach them (the SDK's own
/// aggregation and export come on top), and with the meter listener alone. Each benchmark runs in its own process, so the listeners of one never reach
/// the other. Run: <c>dotnet run -c Release --project tests/Mesh.Benchmarks -- --filter '*Telemetry*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Telemetry")]
public class TelemetryBenchmarks
{
    private IHost? _host;
    private ICounter _counter = null!;
    private MeterListener? _meters;
    private ActivityListener? _spans;
    private Runtime.RoutedActorReference? _reference;
    private long _measured;
    private long _stopped;

    [GlobalSetup(Target = nameof(NoListener))]
    public Task SetupNoListenerAsync() => StartAsync();

    [GlobalSetup(Target = nameof(WithoutTelemetry))]
    public async Task SetupWithoutTelemetryAsync()
    {
        await StartAsync();
        var runtime = (Runtime.MeshRuntime)_host!.Mesh();
        ActorContract<ICounter> contract = ActorContract<ICounter>.Get();
        _reference = new Runtime.RoutedActorReference(runtime, contract, contract.CreateId("telemetry"));
    }

    [GlobalSetup(Target = nameof(MetersOnly))]
    public Task SetupMetersOnlyAsync()
    {
        ListenToMeters();
        return StartAsync();
    }

    [GlobalSetup(Target = nameof(Listened))]
    public Task SetupListenedAsync()
    {
        ListenToMeters();
        _spans = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "Mesh",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => Interlocked.Increment(ref _stopped),
        };
        ActivitySource.AddActivityListener(_spans);
        return StartAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await Nodes.StopAsync(_host);
        _meters?.Dispose();
        _spans?.Dispose();
    }

    /// <summary>Returns the counter's new value; nobody listens.</summary>
    [Benchmark(Baseline = true)]
    public async ValueTask<int> NoListener() => await _counter.IncrementAsync();

    /// <summary>The same call routed without the listener check at all (what the proxy's reference runs once it found
    /// nobody listening): the difference to <see cref="NoListener"/> is everything telemetry costs an unobserved call.</summary>
    [Benchmark]
    public async ValueTask<int> WithoutTelemetry() => await _reference!.Invoke<ICounter_IncrementAsync_Request, ICounter, int>(new ICounter_IncrementAsync_Request(1), default);

    /// <summary>Returns the counter's new value; every Mesh instrument is listened to, no span.</summary>
    [Benchmark]
    public async ValueTask<int> MetersOnly() => await _counter.IncrementAsync();

    /// <summary>Returns the counter's new value; every instrument and span is listened to.</summary>
    [Benchmark]
    public async ValueTask<int> Listened() => await _counter.IncrementAsync();

    private void ListenToMeters()
    {
        _meters = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Mesh")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _measured, value));
        _meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measured));
        _meters.Start();
    }

    private async Task StartAsync()
    {
        _host = await Nodes.StartMeshAsync();
        _counter = _host.Mesh().GetActor<ICounter>("telemetry");
        await _counter.IncrementAsync(0);
    }
}
