using System.Diagnostics;
using System.Runtime;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>What a scenario reports: a named figure, its unit, and which direction is better.</summary>
internal sealed record ScenarioMetric(string Name, string Unit, bool HigherIsBetter);

/// <summary>The settings every scenario of one invocation shares.</summary>
internal sealed record ScenarioSettings(double Scale, TimeSpan Duration, int Nodes)
{
    /// <summary>The longest any one measured run may take before it counts as hung.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Scales a count, never below <paramref name="minimum"/>.</summary>
    public int Scaled(int count, int minimum = 1) => Math.Max(minimum, (int)Math.Round(count * Scale));
}

/// <summary>A scenario's result disagreed with what the calls must have produced.</summary>
internal sealed class ScenarioCheckException(string message) : Exception(message);

/// <summary>
/// One of eigr/mesh's single-node scenarios, run the same way on each framework. A run starts from a fresh node, warms
/// it up, measures, then checks that the actors hold exactly what the calls put there (a wrong count throws
/// <see cref="ScenarioCheckException"/>), so a figure is never reported for work that was not done.
/// </summary>
internal abstract class Scenario
{
    public abstract int Number { get; }

    /// <summary>Gets the short name used by <c>--only</c> and in the JSON.</summary>
    public abstract string Key { get; }

    public abstract string Describe(ScenarioSettings settings);

    /// <summary>Gets the figures a run reports; the first is the one charted and compared.</summary>
    public abstract IReadOnlyList<ScenarioMetric> Metrics { get; }

    public abstract Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run);

    /// <summary>Gets whether the scenario means anything when the actors live in other processes.</summary>
    public virtual bool RunsMultiNode => true;

    /// <summary>How many unmeasured passes <see cref="WarmNodesAsync"/> makes.</summary>
    public const int NodeWarmupPasses = 3;

    /// <summary>
    /// Runs the scenario <see cref="NodeWarmupPasses"/> times, unmeasured, on serving nodes that run <paramref name="run"/>
    /// is about to measure, at a quarter of its size (and at most a second of <see cref="ScenarioSettings.Duration"/>),
    /// with ids the measured run does not use. A generic warm-up leaves the paths only this scenario takes on tier-0 code
    /// (a 200-deep queue on one actor, activations in bulk), and the runtime then compiles them in the background inside
    /// the measured time: the first pass runs them, the next ones call them often enough for tier-up after the runtime's
    /// tiering delay. Every figure and check of a pass is computed as in a measured run and thrown away.
    /// </summary>
    public async Task WarmNodesAsync(Framework framework, ScenarioSettings settings, int run)
    {
        ScenarioSettings smaller = settings with
        {
            Scale = settings.Scale / 4,
            Duration = TimeSpan.FromTicks(Math.Min(settings.Duration.Ticks, TimeSpan.TicksPerSecond)),
        };
        for (int pass = 0; pass < NodeWarmupPasses; pass++)
        {
            await RunAsync(framework, smaller, WarmPassRun(run, pass)).ConfigureAwait(false);
        }
    }

    /// <summary>The run number a node warm-up pass uses for its ids: measured runs are numbered -99 to 100, so the two
    /// never share an id.</summary>
    protected virtual int WarmPassRun(int run, int pass) => 10_000 + (run * NodeWarmupPasses) + pass;

    /// <summary>Gets whether a run measures the scenario <see cref="ScenarioOptions.Passes"/> times on its nodes. The
    /// short scenarios do: their measured calls take milliseconds, so one pause of the machine moves a single pass by
    /// tens of percent. Memory (its heap grows with each pass) and sustained (seconds long) measure once.</summary>
    public virtual bool MeasuresPasses => true;

    /// <summary>The run number measured pass <paramref name="pass"/> (from 0) of run <paramref name="run"/> uses for its
    /// ids: the run's own for the first, then numbers above the warm-up passes' (at most
    /// <see cref="ScenarioOptions.MaxPasses"/> per run), so each pass starts from actors no pass has called.</summary>
    public virtual int MeasuredPassRun(int run, int pass) => pass == 0 ? run : 100_000 + ((run + 100) * ScenarioOptions.MaxPasses) + pass;

    public static IReadOnlyList<Scenario> All { get; } =
    [
        new ActivationsScenario(), new HotActorScenario(), new SpreadScenario(), new MixedScenario(),
        new LatencyScenario(), new MemoryScenario(), new SustainedScenario(),
    ];

    /// <summary>Runs <paramref name="call"/> for indexes 0..<paramref name="total"/>-1 from <paramref name="concurrency"/>
    /// workers that each take the next index when their previous call completes; returns the elapsed seconds.</summary>
    protected static async Task<double> RunConcurrentAsync(int total, int concurrency, Func<int, ValueTask> call)
    {
        int next = -1;
        var workers = new Task[Math.Min(total, concurrency)];
        long start = Stopwatch.GetTimestamp();
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < total)
                {
                    await call(i).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(workers).WaitAsync(ScenarioSettings.RunTimeout).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>The figures of a scenario of calls: its throughput first, then what a call cost the calling process (the
    /// callers and, on one node, the whole runtime; see <see cref="CallCosts"/>).</summary>
    protected static ScenarioMetric[] CallMetrics(string throughput) =>
    [
        new(throughput, throughput, HigherIsBetter: true),
        new("caller CPU", "µs/call", HigherIsBetter: false),
        new("pool work items", "per call", HigherIsBetter: false),
        new(CrossCoreProbe.MetricName, "ns", HigherIsBetter: false),
    ];

    /// <summary>Runs <paramref name="measured"/> and reports <paramref name="calls"/> per second with the costs of
    /// <see cref="CallMetrics"/>.</summary>
    protected static async Task<Dictionary<string, double>> MeasureCallsAsync(string throughput, long calls, Func<Task<double>> measured)
    {
        double crossCore = CrossCoreProbe.MeasureRoundTrip();
        CallCosts before = CallCosts.Now();
        double seconds = await measured().ConfigureAwait(false);
        CallCosts after = CallCosts.Now();
        var figures = new Dictionary<string, double> { [throughput] = calls / seconds, [CrossCoreProbe.MetricName] = crossCore };
        after.AddPerCall(figures, before, calls);
        return figures;
    }

    protected static void Expect(string what, long expected, long actual)
    {
        if (expected != actual)
        {
            throw new ScenarioCheckException($"{what}: expected {expected:N0}, got {actual:N0}");
        }
    }

    protected static string[] Ids(string prefix, int run, int count)
    {
        string[] ids = new string[count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = $"{prefix}-{run}-{i}";
        }

        return ids;
    }

    /// <summary>Sums the values of <paramref name="ids"/> of <paramref name="kind"/> with calls that add 0.</summary>
    protected static async Task<long> SumAsync(Framework framework, ActorKind kind, string[] ids)
    {
        long sum = 0;
        foreach (string id in ids)
        {
            sum += await framework.IncrementAsync(kind, id, 0).ConfigureAwait(false);
        }

        return sum;
    }

    /// <summary>Activates each of <paramref name="ids"/> with a first call from <paramref name="concurrency"/> callers;
    /// throws unless every call answered 1, i.e. found a new actor.</summary>
    protected static async Task<double> ActivateAsync(Framework framework, string[] ids, int concurrency)
    {
        int fresh = 0;
        double seconds = await RunConcurrentAsync(ids.Length, concurrency, async i =>
        {
            if (await framework.IncrementAsync(ActorKind.Counter, ids[i]).ConfigureAwait(false) == 1)
            {
                Interlocked.Increment(ref fresh);
            }
        }).ConfigureAwait(false);
        Expect("first calls that found a new actor", ids.Length, fresh);
        return seconds;
    }
}

/// <summary>1. New ids, each activated by its first call.</summary>
internal sealed class ActivationsScenario : Scenario
{
    private const int Count = 50_000;
    private const int Concurrency = 500;

    public override int Number => 1;

    public override string Key => "activations";

    public override string Describe(ScenarioSettings settings) => $"Activations: {settings.Scaled(Count):N0} new ids, concurrency {Concurrency}";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } = CallMetrics("activations/s");

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        await ActivateAsync(framework, Ids("warm", run, settings.Scaled(1_000)), Concurrency).ConfigureAwait(false);
        string[] ids = Ids("act", run, settings.Scaled(Count));
        int before = await framework.CountActivationsAsync().ConfigureAwait(false);
        Dictionary<string, double> figures = await MeasureCallsAsync("activations/s", ids.Length, () => ActivateAsync(framework, ids, Concurrency)).ConfigureAwait(false);
        int after = await framework.CountActivationsAsync().ConfigureAwait(false);
        Expect("new activations", ids.Length, after - before);
        return figures;
    }
}

/// <summary>2. Many concurrent callers of one actor.</summary>
internal sealed class HotActorScenario : Scenario
{
    private const int Count = 10_000;
    private const int Concurrency = 200;

    public override int Number => 2;

    public override string Key => "hot";

    public override string Describe(ScenarioSettings settings) => $"Hot actor: {settings.Scaled(Count):N0} calls on one id, concurrency {Concurrency}";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } = CallMetrics("calls/s");

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        int calls = settings.Scaled(Count);
        HeldActor hot = framework.Hold($"hot-{run}");

        // The node warm-up's passes call this same actor (see WarmPassRun), so it may hold their calls already.
        int initial = await hot.IncrementAsync(0).ConfigureAwait(false);
        int warmUp = settings.Scaled(1_000);
        await RunConcurrentAsync(warmUp, Concurrency, async _ => await hot.IncrementAsync().ConfigureAwait(false)).ConfigureAwait(false);

        int highest = 0;
        Dictionary<string, double> figures = await MeasureCallsAsync("calls/s", calls, () => RunConcurrentAsync(calls, Concurrency, async _ =>
        {
            int value = await hot.IncrementAsync().ConfigureAwait(false);
            int seen;
            while (value > (seen = Volatile.Read(ref highest)) && Interlocked.CompareExchange(ref highest, value, seen) != seen)
            {
            }
        })).ConfigureAwait(false);
        Expect("highest value a call saw", initial + warmUp + calls, highest);
        Expect("final value", initial + warmUp + calls, await hot.IncrementAsync(0).ConfigureAwait(false));
        return figures;
    }

    /// <summary>The passes call the actor the measured run will call: with two or more serving nodes, another id could
    /// live on the other node, whose deep-queue paths would stay cold.</summary>
    protected override int WarmPassRun(int run, int pass) => run;

    /// <summary>Every measured pass calls the same actor, for the same reason (a run starts from the value it finds).</summary>
    public override int MeasuredPassRun(int run, int pass) => run;
}

/// <summary>3. Calls spread over three actor types (three capabilities).</summary>
internal sealed class SpreadScenario : Scenario
{
    private const int Count = 30_000;
    private const int IdsPerKind = 100;
    private const int Concurrency = 300;
    private static readonly ActorKind[] s_kinds = [ActorKind.Counter, ActorKind.Tally, ActorKind.Gauge];

    public override int Number => 3;

    public override string Key => "spread";

    public override string Describe(ScenarioSettings settings)
        => $"Spread: {settings.Scaled(Count):N0} calls across 3 actor types x {IdsPerKind} ids, concurrency {Concurrency}";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } = CallMetrics("calls/s");

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        int calls = settings.Scaled(Count);
        string[] ids = Ids("spread", run, IdsPerKind);

        // Warm-up: activate all 300 actors with calls that add 0, so the measured calls reach active actors.
        await RunConcurrentAsync(ids.Length * s_kinds.Length, Concurrency, async i =>
            await framework.IncrementAsync(s_kinds[i % s_kinds.Length], ids[i / s_kinds.Length], 0).ConfigureAwait(false)).ConfigureAwait(false);

        Dictionary<string, double> figures = await MeasureCallsAsync("calls/s", calls, () => RunConcurrentAsync(calls, Concurrency, async i =>
            await framework.IncrementAsync(s_kinds[i % s_kinds.Length], ids[(i / s_kinds.Length) % IdsPerKind]).ConfigureAwait(false))).ConfigureAwait(false);

        long total = 0;
        for (int k = 0; k < s_kinds.Length; k++)
        {
            long sum = await SumAsync(framework, s_kinds[k], ids).ConfigureAwait(false);
            Expect($"sum of the {s_kinds[k]} actors", (calls / s_kinds.Length) + (calls % s_kinds.Length > k ? 1 : 0), sum);
            total += sum;
        }

        Expect("sum of all actors", calls, total);
        return figures;
    }
}

/// <summary>4. Calls over many ids in random order: first calls activate, later ones reach active actors.</summary>
internal sealed class MixedScenario : Scenario
{
    private const int Count = 20_000;
    private const int IdCount = 5_000;
    private const int Concurrency = 300;

    public override int Number => 4;

    public override string Key => "mixed";

    public override string Describe(ScenarioSettings settings)
        => $"Mixed: {settings.Scaled(Count):N0} calls over {settings.Scaled(IdCount):N0} ids in random order, concurrency {Concurrency}";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } = CallMetrics("calls/s");

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        await ActivateAsync(framework, Ids("warm", run, settings.Scaled(1_000)), Concurrency).ConfigureAwait(false);
        int calls = settings.Scaled(Count);
        string[] ids = Ids("mixed", run, settings.Scaled(IdCount));
        var random = new Random(run);
        int[] order = new int[calls];
        int[] expected = new int[ids.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = random.Next(ids.Length);
            expected[order[i]]++;
        }

        Dictionary<string, double> figures = await MeasureCallsAsync("calls/s", calls, () => RunConcurrentAsync(calls, Concurrency, async i =>
            await framework.IncrementAsync(ActorKind.Counter, ids[order[i]]).ConfigureAwait(false))).ConfigureAwait(false);

        for (int i = 0; i < ids.Length; i++)
        {
            Expect($"value of {ids[i]}", expected[i], await framework.IncrementAsync(ActorKind.Counter, ids[i], 0).ConfigureAwait(false));
        }

        return figures;
    }
}

/// <summary>5. One caller, one warm actor, one call at a time: the latency distribution of a call.</summary>
internal sealed class LatencyScenario : Scenario
{
    private const int Count = 1_000;

    public override int Number => 5;

    public override string Key => "latency";

    public override string Describe(ScenarioSettings settings) => $"Latency: {settings.Scaled(Count, 20):N0} sequential calls to one warm actor";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } =
        [new("p50", "µs", HigherIsBetter: false), new("p95", "µs", HigherIsBetter: false), new("p99", "µs", HigherIsBetter: false)];

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        int calls = settings.Scaled(Count, 20);
        HeldActor actor = framework.Hold($"latency-{run}");
        for (int i = 0; i < calls; i++)
        {
            await actor.IncrementAsync().ConfigureAwait(false);
        }

        long[] ticks = new long[calls];
        for (int i = 0; i < ticks.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await actor.IncrementAsync().ConfigureAwait(false);
            ticks[i] = Stopwatch.GetTimestamp() - start;
        }

        Expect("final value", 2L * calls, await actor.IncrementAsync(0).ConfigureAwait(false));
        Array.Sort(ticks);
        return new Dictionary<string, double>
        {
            ["p50"] = Microseconds(Percentile(ticks, 0.50)),
            ["p95"] = Microseconds(Percentile(ticks, 0.95)),
            ["p99"] = Microseconds(Percentile(ticks, 0.99)),
        };
    }

    /// <summary>The nearest-rank percentile of sorted <paramref name="values"/>.</summary>
    private static long Percentile(long[] values, double fraction)
        => values[Math.Clamp((int)Math.Ceiling(fraction * values.Length) - 1, 0, values.Length - 1)];

    private static double Microseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}

/// <summary>
/// 6. The managed heap an idle activation keeps: <c>GC.GetTotalMemory(false)</c> after a full, blocking, compacting
/// collection (large object heap included), before and after activating the ids, divided by their number. Nothing is
/// subtracted: the difference holds the actors, the framework's bookkeeping for them, and anything else the node
/// kept after the burst (grown dictionaries, pools). The ids are formatted during the burst and dropped by the caller,
/// so each framework pays for whatever copy of an id it keeps.
/// </summary>
internal sealed class MemoryScenario : Scenario
{
    private const int Count = 100_000;
    private const int Concurrency = 500;

    public override int Number => 6;

    public override string Key => "memory";

    public override bool RunsMultiNode => false;

    public override bool MeasuresPasses => false;

    public override string Describe(ScenarioSettings settings) => $"Memory: managed bytes per idle activation, {settings.Scaled(Count):N0} activations";

    public override IReadOnlyList<ScenarioMetric> Metrics { get; } = [new("bytes/activation", "B", HigherIsBetter: false)];

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        int count = settings.Scaled(Count);
        await ActivateAsync(framework, Ids("warm", run, settings.Scaled(1_000)), Concurrency).ConfigureAwait(false);
        int activationsBefore = await framework.CountActivationsAsync().ConfigureAwait(false);
        long before = CompactedHeapBytes();

        int fresh = 0;
        await RunConcurrentAsync(count, Concurrency, async i =>
        {
            if (await framework.IncrementAsync(ActorKind.Counter, $"mem-{run}-{i}").ConfigureAwait(false) == 1)
            {
                Interlocked.Increment(ref fresh);
            }
        }).ConfigureAwait(false);

        long after = CompactedHeapBytes();
        Expect("first calls that found a new actor", count, fresh);
        Expect("new activations", count, await framework.CountActivationsAsync().ConfigureAwait(false) - activationsBefore);
        return new Dictionary<string, double> { ["bytes/activation"] = (after - before) / (double)count };
    }

    private static long CompactedHeapBytes()
    {
        for (int i = 0; i < 2; i++)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: false);
    }
}

/// <summary>7. 64 callers, each calling its own actor as fast as it answers, for a fixed time.</summary>
internal sealed class SustainedScenario : Scenario
{
    private const int Callers = 64;

    public override int Number => 7;

    public override string Key => "sustained";

    public override string Describe(ScenarioSettings settings) => $"Sustained: {Callers} callers for {settings.Duration.TotalSeconds:0.##} s";

    public override bool MeasuresPasses => false;

    /// <summary>Gets the figures of every call scenario and, as this one runs for seconds, the machine's CPU per call
    /// (see <see cref="CallCosts"/>).</summary>
    public override IReadOnlyList<ScenarioMetric> Metrics { get; } =
        [.. CallMetrics("calls/s"), new("machine CPU", "µs/call", HigherIsBetter: false)];

    public override async Task<IReadOnlyDictionary<string, double>> RunAsync(Framework framework, ScenarioSettings settings, int run)
    {
        var actors = new HeldActor[Callers];
        for (int c = 0; c < actors.Length; c++)
        {
            actors[c] = framework.Hold($"sustained-{run}-{c}");
            await actors[c].IncrementAsync(0).ConfigureAwait(false);
        }

        // Warm-up: a tenth of the duration (at most a second), not counted.
        await CallForAsync(actors, TimeSpan.FromTicks(Math.Min(settings.Duration.Ticks / 10, TimeSpan.TicksPerSecond))).ConfigureAwait(false);
        long warm = 0;
        foreach (HeldActor actor in actors)
        {
            warm += await actor.IncrementAsync(0).ConfigureAwait(false);
        }

        double crossCore = CrossCoreProbe.MeasureRoundTrip();
        CallCosts before = CallCosts.Now(machine: true);
        long start = Stopwatch.GetTimestamp();
        long calls = await CallForAsync(actors, settings.Duration).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        CallCosts after = CallCosts.Now(machine: true);

        long total = 0;
        foreach (HeldActor actor in actors)
        {
            total += await actor.IncrementAsync(0).ConfigureAwait(false);
        }

        Expect("calls counted by the actors", calls, total - warm);
        var figures = new Dictionary<string, double> { ["calls/s"] = calls / seconds, [CrossCoreProbe.MetricName] = crossCore };
        after.AddPerCall(figures, before, calls);
        return figures;
    }

    /// <summary>Each caller calls its actor until the deadline (checked every 64 calls); returns the calls made.</summary>
    private static async Task<long> CallForAsync(HeldActor[] actors, TimeSpan duration)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long calls = 0;
        var callers = new Task[actors.Length];
        for (int c = 0; c < callers.Length; c++)
        {
            HeldActor actor = actors[c];
            callers[c] = Task.Run(async () =>
            {
                long made = 0;
                do
                {
                    for (int i = 0; i < 64; i++)
                    {
                        await actor.IncrementAsync().ConfigureAwait(false);
                    }

                    made += 64;
                }
                while (Stopwatch.GetTimestamp() < deadline);

                Interlocked.Add(ref calls, made);
            });
        }

        await Task.WhenAll(callers).WaitAsync(duration + ScenarioSettings.RunTimeout).ConfigureAwait(false);
        return calls;
    }
}

/// <summary>
/// Counters read before and after a measured run, to divide by the calls made: the processor time of this process (the
/// callers and this node's runtime), of the whole machine (every node process, from <c>/proc/stat</c>; anything else
/// running counts too), and the thread-pool work items this process ran. Each pool work item can cost a thread a
/// wake-up or a spin on a small machine, so fewer of them per call is how a hop saved shows.
/// </summary>
internal readonly record struct CallCosts(TimeSpan ProcessCpu, TimeSpan? MachineCpu, long PoolWorkItems)
{
    /// <summary>Adds this process's CPU time and pool work items per call since <paramref name="before"/> to
    /// <paramref name="figures"/>, and the machine's CPU time when both readings took it (<c>NaN</c> where
    /// <c>/proc/stat</c> could not be read).</summary>
    public void AddPerCall(Dictionary<string, double> figures, CallCosts before, long calls)
    {
        figures["caller CPU"] = (ProcessCpu - before.ProcessCpu).TotalMicroseconds / calls;
        figures["pool work items"] = (PoolWorkItems - before.PoolWorkItems) / (double)calls;
        if (MachineCpu is { } machine && before.MachineCpu is { } machineBefore)
        {
            figures["machine CPU"] = machine < TimeSpan.Zero || machineBefore < TimeSpan.Zero ? double.NaN : (machine - machineBefore).TotalMicroseconds / calls;
        }
    }

    /// <summary>Reads the counters; the machine's only with <paramref name="machine"/>: <c>/proc/stat</c> counts in
    /// 10 ms ticks, too coarse for the short scenarios, so they do not pay for reading it.</summary>
    public static CallCosts Now(bool machine = false)
    {
        using var self = Process.GetCurrentProcess();
        return new CallCosts(self.TotalProcessorTime, machine ? MachineBusy() : null, ThreadPool.CompletedWorkItemCount);
    }

    /// <summary>Gets the processor time all processes have used since boot, or a negative time where
    /// <c>/proc/stat</c> cannot be read.</summary>
    private static TimeSpan MachineBusy()
    {
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ ticks (100 per second on Linux).
            string? line = File.ReadLines("/proc/stat").FirstOrDefault();
            string[] fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
            if (fields.Length < 8 || fields[0] != "cpu")
            {
                return TimeSpan.FromTicks(-1);
            }

            long ticks = 0;
            foreach (int field in (ReadOnlySpan<int>)[1, 2, 3, 6, 7])
            {
                ticks += long.Parse(fields[field], System.Globalization.CultureInfo.InvariantCulture);
            }

            return TimeSpan.FromMilliseconds(ticks * 10);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return TimeSpan.FromTicks(-1);
        }
    }
}
