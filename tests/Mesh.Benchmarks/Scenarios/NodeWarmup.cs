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
/// Both frameworks get the same workload for the same time through <see cref="Framework.IncrementAsync"/>: warm
/// calls, calls that queue on one shared actor per kind, and calls that activate new ids, on all three actor kinds,
/// from <see cref="Callers"/> callers. New ids keep coming for the whole warm-up (one call in
/// <see cref="NewIdEvery"/>, up to <see cref="NewIdsPerCaller"/> per caller), not only at its start: the runtime
/// starts counting calls for tier-up only once start-up's compiling has settled, so activations made only in the
/// first moments leave the activation path on tier-0 code, and the first scenario that activates (mixed: 5,000 new
/// ids) then paid for its compiling inside its measured time (seen with <c>perf sched</c>: the serving node's tiered
/// compilation thread took half a core for the first 40 ms of a 65 ms run, 2026-12-05). The ids are the warm-up's
/// own, so no scenario finds them; the actors stay on the nodes (up to 64,000 idle activations, a few tens of MB)
/// and the scenarios count activations as differences.
/// </summary>
internal static class NodeWarmup
{
    private const int Callers = 64;
    private const int IdsPerCaller = 48;
    private const int NewIdEvery = 16;
    private const int NewIdsPerCaller = 1_000;

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
                int created = 0;
                do
                {
                    ActorKind kind = kinds[(int)(made % kinds.Length)];

                    // Every fourth call goes to the kind's shared actor, where callers queue behind each other; one in
                    // NewIdEvery activates a new id while the caller has any left.
                    string id = made % 4 == 3 ? "node-warmup-shared"
                        : made % NewIdEvery == 1 && created < NewIdsPerCaller ? $"node-warmup-{caller}-new-{created++}"
                        : $"node-warmup-{caller}-{made / kinds.Length % IdsPerCaller}";
                    await framework.IncrementAsync(kind, id).ConfigureAwait(false);
                    made++;
                }
                while (Stopwatch.GetTimestamp() < deadline);
            });
        }

        await Task.WhenAll(callers).WaitAsync(duration + ScenarioSettings.RunTimeout).ConfigureAwait(false);
    }
}
