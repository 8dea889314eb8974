using System.Diagnostics;
using System.Globalization;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>What one scenario produced: every run of every framework, or the error that stopped it.</summary>
internal sealed class ScenarioOutcome(Scenario scenario, string description)
{
    public Scenario Scenario { get; } = scenario;

    public string Description { get; } = description;

    /// <summary>Gets the figures of each run, per framework, in run order.</summary>
    public Dictionary<string, List<IReadOnlyDictionary<string, double>>> Runs { get; } = new()
    {
        [Framework.MeshName] = [],
        [Framework.OrleansName] = [],
    };

    /// <summary>Gets, per framework and in run order, the figures of each measured pass of a run whose figures are
    /// the medians of several passes (see <see cref="ScenarioOptions.Passes"/>); empty when every run measured once.</summary>
    public Dictionary<string, List<IReadOnlyList<IReadOnlyDictionary<string, double>>>> Passes { get; } = new()
    {
        [Framework.MeshName] = [],
        [Framework.OrleansName] = [],
    };

    public string? Error { get; set; }

    /// <summary>Gets or sets why the scenario did not run in this layout (not a failure), or null.</summary>
    public string? Skipped { get; set; }

    /// <summary>Gets the median of <paramref name="metric"/> over the runs of <paramref name="framework"/>, or NaN.</summary>
    public double Median(string framework, string metric) => MedianOf(Runs[framework], metric);

    /// <summary>Gets the median of <paramref name="metric"/> over <paramref name="figures"/> (the mean of the middle
    /// two for an even count), or NaN when there are none.</summary>
    public static double MedianOf(IReadOnlyList<IReadOnlyDictionary<string, double>> figures, string metric)
    {
        if (figures.Count == 0)
        {
            return double.NaN;
        }

        double[] values = new double[figures.Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = figures[i][metric];
        }

        Array.Sort(values);
        int middle = values.Length / 2;
        return values.Length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /// <summary>Gets Mesh's median divided by Orleans' median.</summary>
    public double Ratio(string metric) => Median(Framework.MeshName, metric) / Median(Framework.OrleansName, metric);
}

/// <summary>
/// The <c>scenarios</c> command: runs eigr/mesh's single-node scenarios on Mesh and on Orleans, each on a fresh node,
/// frameworks alternating (Mesh first in odd runs, Orleans first in even ones), and prints each framework's median and
/// the Mesh/Orleans ratio. Writes the results as JSON and a throughput chart as SVG.
/// </summary>
internal static class ScenarioRunner
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        ScenarioOptions? options = ScenarioOptions.Parse(args, out string? error);
        if (options is null)
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(ScenarioOptions.Usage);
            return 2;
        }

        IReadOnlyList<ScenarioOutcome> outcomes = await RunAsync(options, Console.Out).ConfigureAwait(false);
        PrintSummary(outcomes, options, Console.Out);
        (string json, string svg) = ScenarioReport.Write(outcomes, options);
        Console.WriteLine($"Wrote {json} and {svg}.");
        return outcomes.Any(static o => o.Error is not null) ? 1 : 0;
    }

    /// <summary>Runs the scenarios of <paramref name="options"/>; a failed check ends that scenario, not the others.</summary>
    public static async Task<IReadOnlyList<ScenarioOutcome>> RunAsync(ScenarioOptions options, TextWriter log)
    {
        ScenarioSettings settings = options.Settings;
        string layout = options.Nodes == 1
            ? "Single node, in process."
            : $"{options.Nodes} nodes on loopback: {options.Nodes - 1} serving node process(es) and this process as the caller (a Mesh node without capabilities, an Orleans client), so every call crosses nodes; Mesh nodes talk {(options.Transport == MeshTransport.Tcp ? "TCP" : "QUIC")} with mutual TLS. " +
              (options.NodeWarmup > TimeSpan.Zero
                  ? $"Every run starts new serving processes and warms them with {options.NodeWarmup.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s of calls, then {Scenario.NodeWarmupPasses} unmeasured quarter-size passes of the scenario, before it measures."
                  : "Every run starts new serving processes and measures them cold (--node-warmup 0).");
        string measuredPasses = options.Passes == 1 ? string.Empty : $" Each run measures the scenarios of milliseconds {options.Passes} times on its nodes and reports the medians.";
        log.WriteLine($"{layout}{measuredPasses} Scale {options.Scale.ToString(CultureInfo.InvariantCulture)}, {options.Runs} run(s) per framework after {options.WarmupRuns} unmeasured warm-up run(s), " +
            $"{Machine.Describe()}.");
        var outcomes = new List<ScenarioOutcome>();
        foreach (Scenario scenario in options.Scenarios)
        {
            var outcome = new ScenarioOutcome(scenario, scenario.Describe(settings));
            outcomes.Add(outcome);
            log.WriteLine();
            log.WriteLine($"{scenario.Number}. {outcome.Description}");
            if (settings.Nodes > 1 && !scenario.RunsMultiNode)
            {
                outcome.Skipped = "single node only: it measures the heap of the process that holds the activations.";
                log.WriteLine($"   skipped: {outcome.Skipped}");
                continue;
            }

            try
            {
                // Runs up to 0 are warm-ups: run and checked like the others, logged, but not counted.
                for (int run = 1 - options.WarmupRuns; run <= options.Runs; run++)
                {
                    string[] order = (run & 1) == 1 ? [Framework.MeshName, Framework.OrleansName] : [Framework.OrleansName, Framework.MeshName];
                    foreach (string name in order)
                    {
                        long start = Stopwatch.GetTimestamp();
                        IReadOnlyList<IReadOnlyDictionary<string, double>> passes;
                        IReadOnlyDictionary<string, double> figures;
                        Framework framework = await Framework.StartAsync(name, settings.Nodes, options.Transport).ConfigureAwait(false);
                        await using (framework.ConfigureAwait(false))
                        {
                            if (settings.Nodes > 1 && options.NodeWarmup > TimeSpan.Zero)
                            {
                                await NodeWarmup.RunAsync(framework, options.NodeWarmup).ConfigureAwait(false);
                                await scenario.WarmNodesAsync(framework, settings, run).ConfigureAwait(false);
                            }

                            passes = await MeasurePassesAsync(scenario, framework, settings, run, scenario.MeasuresPasses ? options.Passes : 1).ConfigureAwait(false);
                        }

                        figures = passes.Count == 1 ? passes[0] : MedianFigures(scenario, passes);
                        string label = run >= 1 ? $"run {run}" : "warm-up";
                        if (run >= 1)
                        {
                            outcome.Runs[name].Add(figures);
                            if (passes.Count > 1)
                            {
                                outcome.Passes[name].Add(passes);
                            }
                        }

                        string eachPass = passes.Count == 1 ? string.Empty
                            : $" (medians of {passes.Count} passes; {scenario.Metrics[0].Name}: {string.Join(" / ", passes.Select(p => Format(scenario.Metrics[0], p[scenario.Metrics[0].Name])))})";
                        log.WriteLine($"   {label}  {name,-8} {FormatFigures(scenario, figures)}{eachPass}   ({Stopwatch.GetElapsedTime(start).TotalSeconds:F1} s with node start and stop)");
                    }
                }
            }
            catch (Exception exception)
            {
                outcome.Error = exception is ScenarioCheckException ? exception.Message : exception.ToString();
                log.WriteLine($"   FAILED: {outcome.Error}");
            }
        }

        return outcomes;
    }

    /// <summary>Measures <paramref name="scenario"/> <paramref name="passes"/> times, one pass after the other on the same
    /// nodes, each with its own ids (see <see cref="Scenario.MeasuredPassRun"/>).</summary>
    private static async Task<IReadOnlyList<IReadOnlyDictionary<string, double>>> MeasurePassesAsync(
        Scenario scenario, Framework framework, ScenarioSettings settings, int run, int passes)
    {
        var figures = new IReadOnlyDictionary<string, double>[passes];
        for (int pass = 0; pass < passes; pass++)
        {
            figures[pass] = await scenario.RunAsync(framework, settings, scenario.MeasuredPassRun(run, pass)).ConfigureAwait(false);
        }

        return figures;
    }

    /// <summary>Each figure's median over <paramref name="passes"/>, figure by figure.</summary>
    private static Dictionary<string, double> MedianFigures(Scenario scenario, IReadOnlyList<IReadOnlyDictionary<string, double>> passes)
    {
        var medians = new Dictionary<string, double>();
        foreach (ScenarioMetric metric in scenario.Metrics)
        {
            medians[metric.Name] = ScenarioOutcome.MedianOf(passes, metric.Name);
        }

        return medians;
    }

    public static void PrintSummary(IReadOnlyList<ScenarioOutcome> outcomes, ScenarioOptions options, TextWriter output)
    {
        output.WriteLine();
        string passes = options.Passes == 1 ? string.Empty : $", each the median of {options.Passes} passes except memory and sustained";
        output.WriteLine($"Medians of {options.Runs} run(s) per framework{passes} (scale {options.Scale.ToString(CultureInfo.InvariantCulture)}, {(options.Nodes == 1 ? "single node" : $"{options.Nodes} nodes")}):");
        output.WriteLine($"{"scenario",-15} {"figure",-22} {"Mesh",14} {"Orleans",14} {"Mesh/Orleans",13}");
        foreach (ScenarioOutcome outcome in outcomes)
        {
            string title = $"{outcome.Scenario.Number}. {outcome.Scenario.Key}";
            if (outcome.Error is not null || outcome.Skipped is not null)
            {
                output.WriteLine($"{title,-15} {(outcome.Error is null ? "skipped (single node only)" : "FAILED")}");
                continue;
            }

            foreach (ScenarioMetric metric in outcome.Scenario.Metrics)
            {
                output.WriteLine(
                    $"{title,-15} {Label(metric),-22} {Format(metric, outcome.Median(Framework.MeshName, metric.Name)),14} " +
                    $"{Format(metric, outcome.Median(Framework.OrleansName, metric.Name)),14} {outcome.Ratio(metric.Name),12:F3}x");
                title = string.Empty;
            }
        }

        output.WriteLine("Mesh/Orleans above 1 is better for throughput; below 1 is better for latency and memory.");
    }

    public static string Format(ScenarioMetric metric, double value)
        => metric.Unit == "µs" || Math.Abs(value) < 100 ? value.ToString("F2", CultureInfo.InvariantCulture) : value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Label(ScenarioMetric metric) => metric.Name == metric.Unit ? metric.Name : $"{metric.Name} ({metric.Unit})";

    private static string FormatFigures(Scenario scenario, IReadOnlyDictionary<string, double> figures)
        => string.Join(", ", scenario.Metrics.Select(m => $"{m.Name} {Format(m, figures[m.Name])}{(m.Name == m.Unit ? string.Empty : " " + m.Unit)}"));
}

/// <summary>Describes the machine a run happened on.</summary>
internal static class Machine
{
    public static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return "unknown CPU";
    }

    public static string Describe()
        => $"{CpuModel()}, {Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}";
}
