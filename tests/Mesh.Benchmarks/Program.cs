using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Mesh.Benchmarks;

// `--smoke`: the quick CI mode (see Smoke). Anything else goes to BenchmarkSwitcher, e.g. `--filter '*'` or
// `--filter '*WarmCall*' --job short`.
if (args.Length > 0 && args[0] == "--smoke")
{
    return await Smoke.RunAsync();
}

// Operations per second and the median/p95 of the per-iteration means sit beside BenchmarkDotNet's default columns,
// so activations/s and calls/s can be read straight off the table.
IConfig config = DefaultConfig.Instance
    .AddColumn(StatisticColumn.Median, StatisticColumn.P95, StatisticColumn.OperationsPerSecond)
    .AddColumn(CategoriesColumn.Default);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;
