using System.Diagnostics;
using System.Text.Json;
using System.Xml.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Mesh.Benchmarks.Scenarios;

namespace Mesh.Benchmarks;

/// <summary>
/// The CI mode (<c>--smoke</c>): checks that every scenario computes what it should, on both frameworks, through the
/// same benchmark classes the full suite measures; runs every scenario of the <c>scenarios</c> runner once per
/// framework with tiny counts (each run checks its own counters) and checks the JSON and SVG it writes; then runs every
/// benchmark once in-process with a dry job, so a benchmark that cannot run fails CI. Exits non-zero on any failure.
/// </summary>
public static class Smoke
{
    private static readonly string[] s_frameworks = [Framework.MeshName, Framework.OrleansName];
    private static int s_checks;

    private static readonly Type[] s_benchmarks =
        [typeof(WarmCallBenchmarks), typeof(ActivationBenchmarks), typeof(DispatchBenchmarks), typeof(ConcurrentCallsBenchmarks), typeof(RemoteCallBenchmarks)];

    public static async Task<int> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        await CheckAsync("warm call, Mesh", failures, WarmCallMeshAsync);
        await CheckAsync("warm call, Orleans", failures, WarmCallOrleansAsync);
        await CheckAsync("activation, Mesh", failures, ActivationMeshAsync);
        await CheckAsync("activation, Orleans", failures, ActivationOrleansAsync);
        await CheckAsync("dispatch, Mesh", failures, DispatchMeshAsync);
        await CheckAsync("dispatch, Orleans", failures, DispatchOrleansAsync);
        await CheckAsync("concurrent calls, Mesh", failures, ConcurrentMeshAsync);
        await CheckAsync("concurrent calls, Orleans", failures, ConcurrentOrleansAsync);
        await CheckAsync("remote call, Mesh over memory", failures, () => RemoteCallMeshAsync("memory"));
        await CheckAsync("remote call, Mesh over QUIC", failures, () => RemoteCallMeshAsync("quic"));
        Console.WriteLine($"Scenario checks took {clock.Elapsed.TotalSeconds:F1} s.");
        await CheckAsync("scenarios runner, options", failures, ScenarioOptionsAsync);
        await CheckAsync("scenarios runner, every scenario on both frameworks", failures, ScenarioRunnerAsync);
        await CheckAsync("scenarios runner, 3 nodes (2 serving processes), both frameworks", failures, MultiNodeScenarioRunnerAsync);
        Console.WriteLine($"Scenario runner checks done at {clock.Elapsed.TotalSeconds:F1} s.");
        await CheckAsync("transport comparison, QUIC against TCP", failures, TransportComparisonAsync);

        IConfig config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(1))
            .WithOptions(ConfigOptions.DisableLogFile)
            .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "Mesh.Benchmarks.Smoke"));
        Summary[] summaries = BenchmarkRunner.Run(s_benchmarks, config);
        int ran = 0;
        foreach (Summary summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                failures.Add($"BenchmarkDotNet rejected {summary.Title}: {string.Join("; ", summary.ValidationErrors.Select(static e => e.Message))}");
            }

            foreach (BenchmarkReport report in summary.Reports)
            {
                ran++;
                if (!report.Success)
                {
                    failures.Add($"benchmark {report.BenchmarkCase.DisplayInfo} failed");
                }
            }
        }

        if (ran != s_benchmarks.Length * 2)
        {
            failures.Add($"expected {s_benchmarks.Length * 2} benchmarks to run, {ran} did");
            ran = Math.Max(ran, s_benchmarks.Length * 2);
        }

        Console.WriteLine();
        Console.WriteLine($"Smoke run took {clock.Elapsed.TotalSeconds:F1} s.");
        foreach (string failure in failures)
        {
            Console.Error.WriteLine($"FAILED: {failure}");
        }

        Console.WriteLine($"{s_checks + ran - failures.Count} passed, {failures.Count} failed");
        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task CheckAsync(string name, List<string> failures, Func<Task> check)
    {
        s_checks++;
        try
        {
            await check();
            Console.WriteLine($"ok   {name}");
        }
        catch (Exception exception)
        {
            failures.Add($"{name}: {exception.Message}");
            Console.WriteLine($"FAIL {name}: {exception}");
        }
    }

    private static async Task RemoteCallMeshAsync(string transport)
    {
        var benchmark = new RemoteCallBenchmarks { Transport = transport };
        await benchmark.SetupAsync();
        try
        {
            // The set-up's call added 0; each invocation makes RemoteCallBenchmarks.Calls calls of +1 to the other node.
            for (int invocation = 1; invocation <= 3; invocation++)
            {
                Expect("remote counter value", invocation * RemoteCallBenchmarks.Calls, await benchmark.Mesh());
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task WarmCallMeshAsync()
    {
        var benchmark = new WarmCallBenchmarks();
        await benchmark.SetupMeshAsync();
        try
        {
            for (int expected = 1; expected <= 3; expected++)
            {
                Expect("counter value", expected, await benchmark.Mesh());
            }

            // The warm call must not allocate: it completes synchronously, so this thread does all of its work.
            const int Calls = 100_000;
            for (int i = 0; i < Calls; i++)
            {
                _ = Sync(benchmark.Mesh());
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            int last = 0;
            for (int i = 0; i < Calls; i++)
            {
                last = Sync(benchmark.Mesh());
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Expect("counter value", 3 + (2 * Calls), last);
            Console.WriteLine($"     warm Mesh call: {allocated} bytes allocated over {Calls:N0} calls");
            if (allocated > 0)
            {
                throw new InvalidOperationException($"the warm call allocated {allocated} bytes over {Calls:N0} calls; it must allocate nothing");
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task WarmCallOrleansAsync()
    {
        var benchmark = new WarmCallBenchmarks();
        await benchmark.SetupOrleansAsync();
        try
        {
            for (int expected = 1; expected <= 3; expected++)
            {
                Expect("counter value", expected, await benchmark.Orleans());
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task ActivationMeshAsync()
    {
        var benchmark = new ActivationBenchmarks();
        await benchmark.SetupMeshAsync();
        try
        {
            const int Rounds = 2;
            for (int round = 0; round < Rounds; round++)
            {
                benchmark.NewIds();
                Expect("sum of new counters", ActivationBenchmarks.Batch, await benchmark.Mesh());
                benchmark.DeactivateMesh();
            }

            // One warm-up actor stays; every actor of the rounds was activated once and is deactivated again.
            MeshActivationCounter counted = benchmark.MeshActivations!;
            Expect("activations", 1 + ((long)Rounds * ActivationBenchmarks.Batch), counted.Activated);
            Expect("deactivations", (long)Rounds * ActivationBenchmarks.Batch, counted.Deactivated);
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task ActivationOrleansAsync()
    {
        var benchmark = new ActivationBenchmarks();
        await benchmark.SetupOrleansAsync();
        try
        {
            for (int round = 0; round < 2; round++)
            {
                benchmark.NewIds();
                Expect("sum of new counters", ActivationBenchmarks.Batch, await benchmark.Orleans());
                benchmark.DeactivateOrleans();
            }

            // The grains of the rounds are gone again; what is left are the warm-up grain and Orleans' system targets.
            int live = await benchmark.CountOrleansActivationsAsync();
            if (live >= 100)
            {
                throw new InvalidOperationException($"{live} grain activations are still alive after the rounds were deactivated");
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task DispatchMeshAsync()
    {
        var benchmark = new DispatchBenchmarks();
        benchmark.SetupMesh();
        try
        {
            for (int expected = 1; expected <= 3; expected++)
            {
                int written = await benchmark.Mesh();
                Expect("response bytes", benchmark.LastResponse.Length, written);
                Expect("counter value in the response", expected, benchmark.ReadMeshResponse());
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task DispatchOrleansAsync()
    {
        var benchmark = new DispatchBenchmarks();
        await benchmark.SetupOrleansAsync();
        try
        {
            for (int expected = 1; expected <= 3; expected++)
            {
                int written = await benchmark.Orleans();
                Expect("response bytes", benchmark.LastResponse.Length, written);
                Expect("counter value in the response", expected, benchmark.ReadOrleansResponse());
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task ConcurrentMeshAsync()
    {
        var benchmark = new ConcurrentCallsBenchmarks();
        await benchmark.SetupMeshAsync();
        try
        {
            for (int round = 1; round <= 3; round++)
            {
                Expect("counter value after the burst", round * ConcurrentCallsBenchmarks.Burst, await benchmark.Mesh());
                Expect("every call saw its own value", true, benchmark.LastBurstWasConsistent);
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    private static async Task ConcurrentOrleansAsync()
    {
        var benchmark = new ConcurrentCallsBenchmarks();
        await benchmark.SetupOrleansAsync();
        try
        {
            for (int round = 1; round <= 3; round++)
            {
                Expect("counter value after the burst", round * ConcurrentCallsBenchmarks.Burst, await benchmark.Orleans());
                Expect("every call saw its own value", true, benchmark.LastBurstWasConsistent);
            }
        }
        finally
        {
            await benchmark.CleanupAsync();
        }
    }

    /// <summary>Every scenario that means something across processes, once per framework at a tiny scale, on 3 nodes:
    /// the caller in this process and two serving node processes. The scenarios check their own counters.</summary>
    private static async Task MultiNodeScenarioRunnerAsync()
    {
        string output = Path.Combine(Path.GetTempPath(), $"Mesh.Benchmarks.Smoke.Scenarios3.{Environment.ProcessId}");
        var options = new ScenarioOptions { Scale = 0.002, Runs = 1, Passes = 2, WarmupRuns = 0, Duration = TimeSpan.FromMilliseconds(250), NodeWarmup = TimeSpan.FromMilliseconds(100), OutputDirectory = output, Nodes = 3 };
        IReadOnlyList<ScenarioOutcome> outcomes = await ScenarioRunner.RunAsync(options, Console.Out);
        ScenarioRunner.PrintSummary(outcomes, options, Console.Out);
        foreach (ScenarioOutcome outcome in outcomes)
        {
            if (outcome.Scenario.RunsMultiNode)
            {
                Expect($"{outcome.Scenario.Key} error", null, outcome.Error);
                foreach (string framework in (string[])[Framework.MeshName, Framework.OrleansName])
                {
                    Expect($"{outcome.Scenario.Key} runs of {framework}", 1, outcome.Runs[framework].Count);
                    int passes = outcome.Scenario.MeasuresPasses ? options.Passes : 0;
                    Expect($"{outcome.Scenario.Key} runs of {framework} with passes", passes == 0 ? 0 : 1, outcome.Passes[framework].Count);
                    Expect($"{outcome.Scenario.Key} passes of {framework}'s run", passes, outcome.Passes[framework].Sum(static run => run.Count));
                }
            }
            else
            {
                Expect($"{outcome.Scenario.Key} skipped on 3 nodes", true, outcome.Error is null && outcome.Skipped is not null && outcome.Runs[Framework.MeshName].Count == 0);
            }
        }

        (string json, _) = ScenarioReport.Write(outcomes, options);
        Expect("multi-node JSON name", true, json.EndsWith("scenarios-3-nodes.json", StringComparison.Ordinal));
        Directory.Delete(output, recursive: true);
    }

    /// <summary>Every scenario once per framework at a tiny scale. The scenarios check their own counters (a wrong count
    /// fails the run); this checks that every run reported finite figures, and that the JSON and SVG are well formed.</summary>
    private static async Task TransportComparisonAsync()
    {
        Expect("transport-compare exit code", 0, await TransportComparison.RunAsync(["1", "64", "1"]));
        Expect("transport-compare latency exit code", 0, await TransportComparison.RunAsync(["latency", "1"]));
    }

    /// <summary>The runner's options: defaults, a value it takes, and values it refuses with a message.</summary>
    private static Task ScenarioOptionsAsync()
    {
        ScenarioOptions? defaults = ScenarioOptions.Parse([], out string? error);
        Expect("default passes", 5, defaults?.Passes);
        Expect("default runs", 3, defaults?.Runs);
        Expect("no error for the defaults", null, error);
        Expect("--passes 7", 7, ScenarioOptions.Parse(["--passes", "7", "--only", "hot"], out _)?.Passes);
        foreach (string bad in (string[])["0", "21", "x"])
        {
            Expect($"--passes {bad} refused", null, ScenarioOptions.Parse(["--passes", bad], out error));
            Expect($"--passes {bad} says why", true, error?.Contains("--passes", StringComparison.Ordinal) == true);
        }

        Expect("--passes without a value refused", null, ScenarioOptions.Parse(["--passes"], out error));
        Expect("--passes without a value says why", "--passes needs a value.", error);
        return Task.CompletedTask;
    }

    private static async Task ScenarioRunnerAsync()
    {
        string output = Path.Combine(Path.GetTempPath(), $"Mesh.Benchmarks.Smoke.Scenarios.{Environment.ProcessId}");
        var options = new ScenarioOptions { Scale = 0.002, Runs = 1, Passes = 1, WarmupRuns = 0, Duration = TimeSpan.FromMilliseconds(250), OutputDirectory = output };
        IReadOnlyList<ScenarioOutcome> outcomes = await ScenarioRunner.RunAsync(options, Console.Out);
        ScenarioRunner.PrintSummary(outcomes, options, Console.Out);
        Expect("scenarios run", Scenario.All.Count, outcomes.Count);
        int throughputScenarios = 0;
        foreach (ScenarioOutcome outcome in outcomes)
        {
            if (outcome.Error is not null)
            {
                throw new InvalidOperationException($"scenario {outcome.Scenario.Number} ({outcome.Scenario.Key}) failed: {outcome.Error}");
            }

            foreach (ScenarioMetric metric in outcome.Scenario.Metrics)
            {
                foreach (string framework in s_frameworks)
                {
                    Expect($"{outcome.Scenario.Key} runs of {framework}", 1, outcome.Runs[framework].Count);
                    double value = outcome.Median(framework, metric.Name);
                    // Every figure is finite; memory may come out negative (a collection freed more than was added),
                    // a scenario's headline figure is positive, and its other figures (latency percentiles, costs
                    // per call that a short run may round to zero) are not negative. The cross-core probe is NaN when
                    // a busy machine kept its other thread waiting, and positive otherwise.
                    bool plausible = metric.Name == CrossCoreProbe.MetricName
                        ? double.IsNaN(value) || value > 0
                        : double.IsFinite(value) && (metric.Unit == "B" || (metric == outcome.Scenario.Metrics[0] ? value > 0 : value >= 0));
                    if (!plausible)
                    {
                        throw new InvalidOperationException($"{outcome.Scenario.Key}: {framework} reported {metric.Name} = {value}");
                    }
                }
            }

            throughputScenarios += outcome.Scenario.Metrics[0].Unit.EndsWith("/s", StringComparison.Ordinal) ? 1 : 0;
        }

        try
        {
            (string json, string svg) = ScenarioReport.Write(outcomes, options);
            using (JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(json)))
            {
                Expect("scenarios in the JSON", Scenario.All.Count, document.RootElement.GetProperty("scenarios").GetArrayLength());
            }

            XDocument chart = XDocument.Parse(File.ReadAllText(svg));
            XNamespace ns = "http://www.w3.org/2000/svg";
            int bars = chart.Descendants(ns + "rect").Count(static r => r.Attribute("height")?.Value == "20");
            Expect("bars in the chart (2 per throughput scenario)", 2 * throughputScenarios, bars);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static int Sync(ValueTask<int> call)
        => call.IsCompletedSuccessfully ? call.Result : throw new InvalidOperationException("the warm call did not complete synchronously");

    private static void Expect<T>(string what, T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            throw new InvalidOperationException($"{what}: expected {expected}, got {actual}");
        }
    }
}
