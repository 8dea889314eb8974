using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mesh.Runtime.Tests.Hosting;

namespace Mesh.Runtime.Tests.Telemetry;

[MeshActor("traced")]
public interface ITracedActor : IMeshActor
{
    /// <summary>Returns the W3C id of the activity current while the actor runs, or null.</summary>
    ValueTask<string?> CurrentActivityAsync();

    ValueTask<int> ThrowAsync(string message);
}

public sealed class TracedActor : ITracedActor
{
    public ValueTask<string?> CurrentActivityAsync() => new(Activity.Current?.Id);

    public ValueTask<int> ThrowAsync(string message) => throw new InvalidOperationException(message);
}

/// <summary>Listeners are process-wide (an <see cref="ActivityListener"/> sees every runtime's spans and makes every
/// proxy take the observed path), so these tests run alone: they neither see other tests' calls nor change what the
/// allocation test measures.</summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTests : IDisposable
{
    private readonly string _certificates = Directory.CreateTempSubdirectory("mesh-telemetry-").FullName;

    [Fact]
    public async Task Calls_durations_and_activations_are_measured_with_their_tags()
    {
        await using TestNode node = await TestNode.StartAsync(["traced"]);
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        Meter meter = node.Runtime.Metrics.Meter;
        listener.InstrumentPublished = (instrument, l) =>
        {
            // Only this node's instruments: other tests' runtimes have meters of the same name.
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        listener.Start();

        ITracedActor actor = node.Mesh.GetActor<ITracedActor>("measured");
        await actor.CurrentActivityAsync();
        await actor.CurrentActivityAsync();
        await Assert.ThrowsAsync<ActorInvocationException>(async () => await actor.ThrowAsync("boom"));
        listener.RecordObservableInstruments();

        (string Instrument, double Value, Dictionary<string, object?> Tags)[] seen = [.. measurements];
        Assert.Equal(2, seen.Count(m => m.Instrument == "mesh.calls" && Is(m.Tags, "mesh.outcome", "ok")));
        var failed = Assert.Single(seen, m => m.Instrument == "mesh.calls" && Is(m.Tags, "mesh.outcome", "error"));
        Assert.Equal("traced", failed.Tags["mesh.capability"]);
        Assert.Equal("local", failed.Tags["mesh.call.location"]);

        double[] durations = [.. seen.Where(m => m.Instrument == "mesh.call.duration").Select(m => m.Value)];
        Assert.Equal(3, durations.Length);
        Assert.All(durations, d => Assert.InRange(d, 0, LoopbackNodes.Convergence.TotalSeconds));

        var activated = Assert.Single(seen, m => m.Instrument == "mesh.activations");
        Assert.Equal("traced", activated.Tags["mesh.capability"]);
        Assert.Equal(1, seen.Last(m => m.Instrument == "mesh.activation.count").Value);
        Assert.Contains(seen, m => m.Instrument == "mesh.mailbox.messages" && m.Value == 0);

        await node.StopAsync();
        var deactivated = Assert.Single(measurements, m => m.Instrument == "mesh.deactivations");
        Assert.Equal("shutdown", deactivated.Tags["mesh.deactivation.reason"]);
    }

    [Fact]
    public async Task Without_a_listener_a_call_creates_no_activity()
    {
        await using TestNode node = await TestNode.StartAsync(["traced"]);
        Assert.False(MeshTelemetry.Source.HasListeners());
        Assert.Null(Activity.Current);

        string? current = await node.Mesh.GetActor<ITracedActor>("unobserved").CurrentActivityAsync();

        Assert.Null(current);
    }

    [Fact]
    public async Task A_local_call_is_one_internal_span_that_records_the_actors_failure()
    {
        await using TestNode node = await TestNode.StartAsync(["traced"]);
        using var spans = new SpanRecorder();
        ITracedActor actor = node.Mesh.GetActor<ITracedActor>("local");

        string? inside = await actor.CurrentActivityAsync();
        await Assert.ThrowsAsync<ActorInvocationException>(async () => await actor.ThrowAsync("boom"));

        Activity ok = spans.Single(s => s.DisplayName == "ITracedActor/CurrentActivityAsync" && Is(s, "mesh.actor.key", "local"));
        Assert.Equal(ActivityKind.Internal, ok.Kind);
        Assert.Equal(ok.Id, inside);
        Assert.Equal("traced", ok.GetTagItem("mesh.capability"));
        Assert.Equal("CurrentActivityAsync", ok.GetTagItem("mesh.method"));
        Assert.Equal(node.Mesh.Self.Name, ok.GetTagItem("mesh.node"));
        Assert.Equal(ActivityStatusCode.Unset, ok.Status);

        Activity failed = spans.Single(s => s.DisplayName == "ITracedActor/ThrowAsync" && Is(s, "mesh.actor.key", "local"));
        Assert.Equal(ActivityStatusCode.Error, failed.Status);
        Assert.Equal(typeof(ActorInvocationException).FullName, failed.GetTagItem("error.type"));
    }

    [Fact]
    public async Task A_remote_call_is_one_trace_in_which_the_owners_span_is_a_child_of_the_callers()
    {
        await using TestNode caller = await TestNode.StartAsync([], Configuration("trace-caller", seed: null));
        await using TestNode owner = await TestNode.StartAsync(["traced"], Configuration("trace-owner", caller.Mesh.Self.Endpoint));
        await LoopbackNodes.WaitUntilAsync(() => caller.Mesh.NodesFor("traced").Count == 1, "the caller to see the owner's capability");
        using var spans = new SpanRecorder();
        ITracedActor actor = caller.Mesh.GetActor<ITracedActor>("remote");

        string? inside = await actor.CurrentActivityAsync();

        Activity client = spans.Single(s => s.Kind == ActivityKind.Client && Is(s, "mesh.actor.key", "remote"));
        Assert.Equal("ITracedActor/CurrentActivityAsync", client.DisplayName);
        Assert.Equal("trace-caller", client.GetTagItem("mesh.node"));
        Assert.Equal("trace-owner", client.GetTagItem("mesh.peer.node"));
        Activity server = await spans.WaitForAsync(s => s.Kind == ActivityKind.Server && s.TraceId == client.TraceId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.True(server.HasRemoteParent);
        Assert.Equal("trace-owner", server.GetTagItem("mesh.node"));
        Assert.Equal("CurrentActivityAsync", server.GetTagItem("mesh.method"));
        Assert.Equal(server.Id, inside);
    }

    public void Dispose() => Directory.Delete(_certificates, recursive: true);

    private static bool Is(Dictionary<string, object?> tags, string key, string value) => tags.TryGetValue(key, out object? v) && Equals(v, value);

    private static bool Is(Activity span, string key, string value) => Equals(span.GetTagItem(key), value);

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            result[tag.Key] = tag.Value;
        }

        return result;
    }

    private Dictionary<string, string?> Configuration(string name, string? seed) => LoopbackNodes.Configuration(_certificates, name, seed);

    /// <summary>Samples and records every span of the Mesh source that ends while it lives.</summary>
    private sealed class SpanRecorder : IDisposable
    {
        private readonly ConcurrentQueue<Activity> _stopped = new();
        private readonly ActivityListener _listener;

        public SpanRecorder()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = static source => source.Name == "Mesh",
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _stopped.Enqueue,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public Activity Single(Func<Activity, bool> match) => Assert.Single(_stopped, s => match(s));

        public async Task<Activity> WaitForAsync(Func<Activity, bool> match)
        {
            long deadline = Environment.TickCount64 + (long)LoopbackNodes.Convergence.TotalMilliseconds;
            while (true)
            {
                foreach (Activity span in _stopped)
                {
                    if (match(span))
                    {
                        return span;
                    }
                }

                Assert.True(Environment.TickCount64 < deadline, "Timed out waiting for a span.");
                await Task.Delay(20);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
