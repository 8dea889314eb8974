using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Mesh.Benchmarks;
using Mesh.Benchmarks.Scenarios;

// `--smoke`: the quick CI mode (see Smoke). `scenarios`: eigr/mesh's scenarios side by side with Orleans (see
// ScenarioRunner; `scenarios --help` lists its options). `transport-compare`: QUIC against TCP in alternating rounds
// (see TransportComparison). Anything else goes to BenchmarkSwitcher, e.g. `--filter '*'`
// or `--filter '*WarmCall*' --job short`.
if (args.Length > 0 && args[0] == "--smoke")
{
    return await Smoke.RunAsync();
}

if (args.Length > 0 && args[0] == "transport-compare")
{
    return await TransportComparison.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "node")
{
    return await NodeCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scenarios")
{
    if (args.Length > 1 && args[1] is "--help" or "-h")
    {
        Console.WriteLine(ScenarioOptions.Usage);
        return 0;
    }

    return await ScenarioRunner.RunAsync(args[1..]);
}

// Operations per second and the median/p95 of the per-iteration means sit beside BenchmarkDotNet's default columns,
// so activations/s and calls/s can be read straight off the table.
IConfig config = DefaultConfig.Instance
    .AddColumn(StatisticColumn.Median, StatisticColumn.P95, StatisticColumn.OperationsPerSecond)
    .AddColumn(CategoriesColumn.Default);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
