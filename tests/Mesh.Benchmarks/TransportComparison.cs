using System.Diagnostics;

namespace Mesh.Benchmarks;

/// <summary>
/// `transport-compare`: QUIC against TCP in one process, in alternating rounds, so both see the same machine state. On
/// the shared 2-core machines this repository is measured on, the speed of everything swings by up to 2× for seconds at
/// a time; separate BenchmarkDotNet cases minutes apart then compare two different machines. Each round measures the
/// <see cref="TransportBenchmarks.Throughput"/> workload for 0.7 s on each transport (or, with <c>latency</c>, the p50
/// of 5,000 sequential 64-byte requests), and the median of the per-round QUIC/TCP ratios is the figure reported.
/// </summary>
/// <remarks>
/// <c>transport-compare [senders] [size] [rounds]</c>, defaults 1 64 10; <c>transport-compare latency [rounds]</c>.
/// </remarks>
internal static class TransportComparison
{
    private static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(700);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "latency")
        {
            return await LatencyAsync(args.Length > 1 ? int.Parse(args[1]) : 10);
        }

        int senders = args.Length > 0 ? int.Parse(args[0]) : 1;
        int size = args.Length > 1 ? int.Parse(args[1]) : 64;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 10;
        return await BothAsync(
            new TransportBenchmarks { Transport = "quic", Senders = senders, MessageSize = size },
            new TransportBenchmarks { Transport = "tcp", Senders = senders, MessageSize = size },
            async (quic, tcp) =>
            {
                // Warm both paths up (JIT tiers, pools) before the first measured round.
                for (int i = 0; i < 50; i++)
                {
                    await quic.Throughput();
                    await tcp.Throughput();
                }

                var ratios = new List<double>();
                for (int round = 1; round <= rounds; round++)
                {
                    double q = await RateAsync(quic);
                    double t = await RateAsync(tcp);
                    ratios.Add(q / t);
                    Console.WriteLine($"round {round,2}: {senders} sender(s), {size} B: QUIC {q,12:N0} msgs/s, TCP {t,12:N0} msgs/s, QUIC/TCP {q / t,6:P0}");
                }

                Console.WriteLine($"median QUIC/TCP over {rounds} rounds: {Median(ratios):P1}");
            });
    }

    private static Task<int> LatencyAsync(int rounds) =>
        BothAsync(
            new TransportLatencyBenchmarks { Transport = "quic" },
            new TransportLatencyBenchmarks { Transport = "tcp" },
            async (quic, tcp) =>
            {
                var quicP50 = new List<double>();
                var tcpP50 = new List<double>();
                for (int round = 1; round <= rounds; round++)
                {
                    double q = await P50Async(quic);
                    double t = await P50Async(tcp);
                    quicP50.Add(q);
                    tcpP50.Add(t);
                    Console.WriteLine($"round {round,2}: p50 round trip of 64 B: QUIC {q,6:F1} µs, TCP {t,6:F1} µs");
                }

                Console.WriteLine($"median p50 over {rounds} rounds: QUIC {Median(quicP50):F1} µs, TCP {Median(tcpP50):F1} µs");
            });

    /// <summary>Sets up both transports' benchmark, runs <paramref name="body"/>, cleans both up.</summary>
    private static async Task<int> BothAsync<T>(T quic, T tcp, Func<T, T, Task> body)
        where T : TransportBenchmarkBase
    {
        await quic.SetupAsync();
        await tcp.SetupAsync();
        try
        {
            await body(quic, tcp);
            return 0;
        }
        finally
        {
            await quic.CleanupAsync();
            await tcp.CleanupAsync();
        }
    }

    private static async Task<double> RateAsync(TransportBenchmarks benchmark)
    {
        var clock = Stopwatch.StartNew();
        long invocations = 0;
        while (clock.Elapsed < RoundTime)
        {
            await benchmark.Throughput();
            invocations++;
        }

        return invocations * TransportBenchmarks.ThroughputMessages / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> P50Async(TransportLatencyBenchmarks benchmark)
    {
        long[] latencies = new long[5_000];
        for (int i = 0; i < latencies.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            using var response = await benchmark.Connection.RequestAsync(benchmark.RequestPayload);
            latencies[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(latencies);
        return latencies[latencies.Length / 2] * 1_000_000.0 / Stopwatch.Frequency;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
