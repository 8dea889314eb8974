using System.Globalization;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>The command line of <c>scenarios</c>; see <see cref="Usage"/>.</summary>
internal sealed record ScenarioOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project tests/Mesh.Benchmarks -- scenarios [options]
          --only <list>       scenarios to run, by number or name, comma-separated (default: all)
                              1 activations, 2 hot, 3 spread, 4 mixed, 5 latency, 6 memory, 7 sustained
          --scale <factor>    multiplies every call and id count (default 1; e.g. 0.1)
          --runs <n>          runs per scenario and framework, frameworks alternating (default 3)
          --passes <n>        measured passes per run on the run's nodes, one after the other, for the scenarios whose
                              calls take milliseconds (all but memory and sustained); a run reports each figure's
                              median over its passes (default 5)
          --warmup <n>        unmeasured runs per scenario and framework before those (default 1), so the measured
                              runs see steady-state code (tier-1 JIT) rather than a run that is mostly compiling
          --duration <s>      seconds of scenario 7 (default 10)
          --node-warmup <s>   with --nodes > 1: seconds of calls that bring each run's new serving node processes to
                              steady state before it is measured (default 10: Orleans silos need 6-10 s of calls to
                              reach their steady throughput, Mesh nodes about 2; 0 measures them cold)
          --nodes <n>         nodes per framework (default 1; with n > 1, n - 1 serving node processes on loopback and this process calling them)
          --transport <name>  quic (default) or tcp: how Mesh nodes talk to each other with --nodes > 1
          --out <dir>         where scenarios.json and benchmarks-throughput.svg go (default BenchmarkDotNet.Artifacts/scenarios)
        """;

    public IReadOnlyList<Scenario> Scenarios { get; init; } = Scenario.All;

    public double Scale { get; init; } = 1;

    public int Runs { get; init; } = 3;

    /// <summary>The most measured passes a run may make (see <see cref="Scenario.MeasuredPassRun"/>).</summary>
    public const int MaxPasses = 20;

    /// <summary>Gets how many times a run measures a scenario of milliseconds on its nodes (see
    /// <see cref="Scenario.MeasuresPasses"/>); the run reports each figure's median over them.</summary>
    public int Passes { get; init; } = 5;

    /// <summary>Gets the unmeasured runs per scenario and framework that come first.</summary>
    public int WarmupRuns { get; init; } = 1;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public int Nodes { get; init; } = 1;

    /// <summary>Gets how long each multi-node run warms its new serving node processes before measuring (see
    /// <see cref="NodeWarmup"/>).</summary>
    public TimeSpan NodeWarmup { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets how Mesh nodes talk to each other in a multi-node run.</summary>
    public MeshTransport Transport { get; init; } = MeshTransport.Quic;

    public string OutputDirectory { get; init; } = Path.Combine("BenchmarkDotNet.Artifacts", "scenarios");

    public ScenarioSettings Settings => new(Scale, Duration, Nodes);

    /// <summary>Parses <paramref name="args"/>; returns null and sets <paramref name="error"/> when they are wrong.</summary>
    public static ScenarioOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new ScenarioOptions();
        error = null;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value.";
                return null;
            }

            string value = args[++i];
            switch (name)
            {
                case "--only":
                    var chosen = new List<Scenario>();
                    foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        Scenario? match = Scenario.All.FirstOrDefault(s => s.Key == part || s.Number.ToString(CultureInfo.InvariantCulture) == part);
                        if (match is null)
                        {
                            error = $"--only: no scenario '{part}'.";
                            return null;
                        }

                        chosen.Add(match);
                    }

                    options = options with { Scenarios = [.. chosen.Distinct().OrderBy(static s => s.Number)] };
                    break;
                case "--scale" when double.TryParse(value, CultureInfo.InvariantCulture, out double scale) && scale > 0 && scale <= 100:
                    options = options with { Scale = scale };
                    break;
                case "--runs" when int.TryParse(value, CultureInfo.InvariantCulture, out int runs) && runs is >= 1 and <= 100:
                    options = options with { Runs = runs };
                    break;
                case "--passes" when int.TryParse(value, CultureInfo.InvariantCulture, out int passes) && passes is >= 1 and <= MaxPasses:
                    options = options with { Passes = passes };
                    break;
                case "--warmup" when int.TryParse(value, CultureInfo.InvariantCulture, out int warmup) && warmup is >= 0 and <= 100:
                    options = options with { WarmupRuns = warmup };
                    break;
                case "--duration" when double.TryParse(value, CultureInfo.InvariantCulture, out double seconds) && seconds is > 0 and <= 3600:
                    options = options with { Duration = TimeSpan.FromSeconds(seconds) };
                    break;
                case "--node-warmup" when double.TryParse(value, CultureInfo.InvariantCulture, out double warmSeconds) && warmSeconds is >= 0 and <= 600:
                    options = options with { NodeWarmup = TimeSpan.FromSeconds(warmSeconds) };
                    break;
                case "--nodes" when int.TryParse(value, CultureInfo.InvariantCulture, out int nodes) && nodes >= 1:
                    options = options with { Nodes = nodes };
                    break;
                case "--transport" when value is "quic" or "tcp":
                    options = options with { Transport = value == "tcp" ? MeshTransport.Tcp : MeshTransport.Quic };
                    break;
                case "--out":
                    options = options with { OutputDirectory = value };
                    break;
                default:
                    error = $"Unknown option or bad value: {name} {value}";
                    return null;
            }
        }

        if (options.Scenarios.Count == 0)
        {
            error = "--only chose no scenario.";
            return null;
        }

        return options;
    }
}
