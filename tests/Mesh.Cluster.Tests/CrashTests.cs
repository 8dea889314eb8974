using System.Diagnostics;
using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>A node killed with SIGKILL while calls run: its actors come back on the survivors; callers see typed errors
/// or successes, never a hang.</summary>
public sealed class CrashTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int Ids = 300;
    private const int Workers = 8;

    private static readonly TimeSpan KillAfter = TimeSpan.FromSeconds(2);

    /// <summary>Calls that succeed after the last failure before the run ends, so that "recovered" is seen, not assumed.</summary>
    private static readonly TimeSpan CleanTail = TimeSpan.FromSeconds(2);

    /// <summary>The load runs long enough for the kill, the whole recovery bound and a clean tail.</summary>
    private static readonly TimeSpan RunFor = KillAfter + Bounds.Recovery + CleanTail;


    [Fact]
    public async Task A_killed_nodes_actors_are_reactivated_on_survivors_and_no_call_hangs()
    {
        NodeProcess[] nodes = await StartCountersAsync(3);
        CallReport warm = await Cluster.CallsAsync(nodes[0], "counter", Ids, "crash");
        int onVictim = warm.Nodes.GetValueOrDefault(nodes[2].Name);
        Assert.True(onVictim > 0, $"node3 owns none of the {Ids} ids, so killing it tests nothing: {warm.Line}");

        string command = $"run counter crash {Ids} {(int)RunFor.TotalMilliseconds} {Workers}";
        long started = Stopwatch.GetTimestamp();
        Task<string> load = nodes[0].SendExpectingAsync(command, "RUN", RunFor + Bounds.BulkCommand);
        await Task.Delay(KillAfter);
        TimeSpan killedAt = Stopwatch.GetElapsedTime(started);
        await nodes[2].KillAsync();
        Cluster.Log($"node3 (owner of {onVictim} ids) killed with SIGKILL {killedAt.TotalSeconds:0.00} s into the run");
        var run = new CallReport(await load);
        Cluster.Log($"node1> {command}: {run.Line}");

        Assert.Equal(0, run.Hangs);
        Assert.All(run.ErrorsByType.Keys, static type => Assert.EndsWith("Exception", type, StringComparison.Ordinal));
        TimeSpan recovery = run.LastErrorMs < 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(run.LastErrorMs) - killedAt;
        Cluster.Log($"time to recovery (kill to the last failed call): {recovery.TotalSeconds:0.00} s (bound {Bounds.Recovery.TotalSeconds:0} s); " +
            $"{run.Errors} failed call(s) by type {string.Join(", ", run.ErrorsByType.Select(static e => $"{e.Key}={e.Value}"))}; slowest call {run.MaxMilliseconds} ms");
        Assert.True(recovery <= Bounds.Recovery, $"calls still failed {recovery.TotalSeconds:0.0} s after the kill: {run.Line}");

        NodeProcess[] survivors = [nodes[0], nodes[1]];
        await Cluster.WaitForViewAsync(survivors, survivors, Bounds.FailureDetection);
        CallReport after = await Cluster.CallsAsync(nodes[1], "counter", Ids, "crash");
        Assert.Equal(Ids, after.Ok);
        Assert.DoesNotContain(nodes[2].Name, after.Nodes.Keys);
        Assert.Equal(0, after.Misrouted);
    }
}
