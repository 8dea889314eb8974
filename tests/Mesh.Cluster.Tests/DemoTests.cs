using System.Diagnostics;
using System.Globalization;
using System.Text;
using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>The README's demo (<c>dotnet run --project samples/Demo</c>) runs, forms its cluster and reports.</summary>
public sealed class DemoTests(ITestOutputHelper output)
{
    /// <summary>The demo is asked to call for this long.</summary>
    private const int DurationSeconds = 3;

    /// <summary>Forming the cluster (at most 30 s in the demo) + the calls + stopping, with room for a loaded machine.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task The_demo_forms_a_cluster_of_three_reports_placement_and_rate_and_stops_cleanly()
    {
        string demo = NodeProcess.Metadata("DemoPath");
        Assert.True(File.Exists(demo), $"The demo is not built at {demo}.");
        string folder = Path.Combine(Path.GetTempPath(), "mesh-cluster-tests", "demo-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        int basePort = FreePorts.Next(3)[0];
        int dashboardPort = FreePorts.Next();
        var info = new ProcessStartInfo(NodeProcess.DotnetPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        foreach (string argument in new[] { demo, "--duration", DurationSeconds.ToString(CultureInfo.InvariantCulture), "--base-port", basePort.ToString(CultureInfo.InvariantCulture), "--dashboard-url", $"http://127.0.0.1:{dashboardPort}" })
        {
            info.ArgumentList.Add(argument);
        }

        var text = new StringBuilder();
        var clock = Stopwatch.StartNew();
        var dashboardAnnounced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using Process process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            Append(text, e.Data);
            if (e.Data?.StartsWith("Dashboard: ", StringComparison.Ordinal) == true)
            {
                dashboardAnnounced.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) => Append(text, e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // While the demo calls (DurationSeconds after it prints the URL), the dashboard answers there and, within its
            // refresh interval (1 s), shows all three nodes.
            string? dashboard = null;
            if (await Task.WhenAny(dashboardAnnounced.Task, process.WaitForExitAsync(), Task.Delay(Deadline)) == dashboardAnnounced.Task)
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(DurationSeconds) };
                var watching = Stopwatch.StartNew();
                do
                {
                    dashboard = await http.GetStringAsync(new Uri($"http://127.0.0.1:{dashboardPort}/api/cluster"));
                    if (dashboard.Contains("\"node3\"", StringComparison.Ordinal))
                    {
                        break;
                    }

                    await Task.Delay(Bounds.Poll);
                }
                while (watching.Elapsed < TimeSpan.FromSeconds(DurationSeconds) && !process.HasExited);

                output.WriteLine($"dashboard /api/cluster during the run, after {watching.Elapsed.TotalSeconds:0.0} s: {dashboard[..Math.Min(400, dashboard.Length)]}...");
            }

            bool exited = true;
            try
            {
                await process.WaitForExitAsync().WaitAsync(Deadline);
            }
            catch (TimeoutException)
            {
                exited = false;
            }

            string shown;
            lock (text)
            {
                shown = text.ToString();
            }

            output.WriteLine($"demo ran {clock.Elapsed.TotalSeconds:0.0} s; its output:{Environment.NewLine}{shown}");
            Assert.True(exited, $"The demo did not stop within {Deadline.TotalSeconds:0} s of a {DurationSeconds} s run.");
            Assert.True(process.ExitCode == 0, $"The demo exited with {process.ExitCode}.");
            Assert.Contains("Cluster of 3 nodes formed", shown, StringComparison.Ordinal);
            Assert.Contains($"Dashboard: http://127.0.0.1:{dashboardPort}", shown, StringComparison.Ordinal);
            Assert.Matches(@"game\s+player_1\s+shard\s+\d+ -> node(1|3)", shown);
            Assert.Matches(@"chat\s+room_0\s+shard\s+\d+ -> node2", shown);
            Assert.Matches(@"[\d,]+ calls in [\d.]+ s: [\d,]+ calls/s on average; no errors", shown);
            Assert.Contains("Stopped cleanly.", shown, StringComparison.Ordinal);
            Assert.NotNull(dashboard);
            Assert.Contains("\"node3\"", dashboard, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Left in the temporary directory; harmless.
            }
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }
}
