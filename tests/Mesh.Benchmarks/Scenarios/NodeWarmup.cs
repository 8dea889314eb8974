using System.Diagnostics;

namespace Mesh.Benchmarks.Scenarios;

/// <summary>
/// Brings freshly started serving node processes to steady state before a multi-node run measures them. The runner's
/// warm-up runs (<c>--warmup</c>) warm only the caller's process: every run starts new serving processes, whose code
/// would otherwise run on tier-0 and instrumented JIT code during their first seconds of calls, and the short scenarios
/// (the hot actor's 10,000 calls take about 30 ms on three nodes) would measure mostly that. How long is enough differs
/// by framework (measured on a 2-core VM, 2026-12-04): Mesh nodes reach their steady throughput within 2 s, Orleans
/// silos need 6-10 s (3-node hot actor: about 60 k calls/s after 2 s, 260-280 k after 10 or 20 s), hence the default
/// of 10 s (<see cref="ScenarioOptions.NodeWarmup"/>).
/// Both frameworks get the same workload for the same time through <see cref="Framework.IncrementAsync"/>: first
/// calls that activate new ids, warm calls, and calls that queue on one shared actor per kind, on all three actor
/// kinds, from <see cref="Callers"/> callers. The ids are the warm-up's own, so no scenario finds them; the actors
/// stay on the nodes (a few thousand idle activations) and the scenarios count activations as differences.
/// </summary>
internal static class NodeWarmup
{
    private const int Callers = 64;
    private const int IdsPerCaller = 48;

    /// <summary>Calls from <see cref="Callers"/> callers until <paramref name="duration"/> has passed (each caller
    /// makes at least one call); a failed call fails the run as a scenario's would.</summary>
    public static async Task RunAsync(Framework framework, TimeSpan duration)
    {
        ActorKind[] kinds = Enum.GetValues<ActorKind>();
        long deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var callers = new Task[Callers];
        for (int c = 0; c < callers.Length; c++)
        {
            int caller = c;
            callers[c] = Task.Run(async () =>
            {
                long made = 0;
                do
                {
                    ActorKind kind = kinds[(int)(made % kinds.Length)];

                    // Every fourth call goes to the kind's shared actor, where callers queue behind each other.
                    string id = made % 4 == 3 ? "node-warmup-shared" : $"node-warmup-{caller}-{made / kinds.Length % IdsPerCaller}";
                    await framework.IncrementAsync(kind, id).ConfigureAwait(false);
                    made++;
                }
                while (Stopwatch.GetTimestamp() < deadline);
            });
        }

        await Task.WhenAll(callers).WaitAsync(duration + ScenarioSettings.RunTimeout).ConfigureAwait(false);
    }
}
