using System.Diagnostics;
using System.Globalization;
using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>
/// The dashboard end to end, in a real browser: Debian's Chromium, headless, driven by playwright-core
/// (<c>Browser/dashboard-check.mjs</c>) against a running 3-node cluster whose first node hosts the dashboard. The page
/// must show three members up; a node killed with SIGKILL must turn to down on the page without a reload. The
/// screenshot of that moment is kept as a test artifact. The test installs what it needs (apt packages chromium,
/// nodejs and npm when missing, and playwright-core from npm).
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : ClusterTest(output)
{
    /// <summary>npm install and the apt packages on a fresh machine.</summary>
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The page loads and shows the three members (the dashboard refreshes every 250 ms here).</summary>
    private static readonly TimeSpan PageUp = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_page_shows_the_members_and_a_killed_node_turns_down_without_a_reload()
    {
        string scripts = NodeProcess.Metadata("BrowserScriptFolder");
        string chromium = await BrowserTools.EnsureAsync(scripts, Cluster.Log, InstallTimeout);

        int dashboardPort = FreePorts.Next();
        string url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{dashboardPort}/");
        var withDashboard = new Dictionary<string, string>
        {
            ["Mesh:Dashboard:Url"] = url.TrimEnd('/'),
            ["Mesh:Dashboard:RefreshInterval"] = "00:00:00.250",
        };
        NodeProcess[] nodes = await Cluster.StartAsync(
            new NodeSpec("node1", "game") { Settings = withDashboard },
            new NodeSpec("node2", "chat"),
            new NodeSpec("node3", "counter"));
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);

        string screenshot = Path.Combine(ArtifactFolder(), $"dashboard-node-down-{DateTime.UtcNow:yyyyMMdd-HHmmss}.png");
        using Process browser = StartCheck(scripts, chromium, url, nodes[2].Name, screenshot);
        try
        {
            string up = await ReadLineAsync(browser, PageUp + InstallTimeout);
            Assert.Equal("UP 3", up);
            Cluster.Log($"the page at {url} shows 3 members up");

            long killed = Stopwatch.GetTimestamp();
            await nodes[2].KillAsync();
            await browser.StandardInput.WriteLineAsync("KILLED");
            await browser.StandardInput.FlushAsync();
            string down = await ReadLineAsync(browser, Bounds.FailureDetection + TimeSpan.FromSeconds(10));
            Assert.Equal($"DOWN {nodes[2].Name}", down);
            Cluster.Log($"the page showed {nodes[2].Name} down {Stopwatch.GetElapsedTime(killed).TotalSeconds:0.0} s after SIGKILL; screenshot: {screenshot}");
            Assert.True(new FileInfo(screenshot).Length > 10_000, $"The screenshot {screenshot} is missing or nearly empty.");
            Assert.True(await WaitForExitAsync(browser, TimeSpan.FromSeconds(30)), "The browser script did not exit after its check.");
            Assert.Equal(0, browser.ExitCode);
        }
        finally
        {
            if (!browser.HasExited)
            {
                browser.Kill(entireProcessTree: true);
                await browser.WaitForExitAsync();
            }
        }
    }

    private static string ArtifactFolder()
    {
        // Beside the test assembly, under TestResults, where CI collects artifacts; MESH_TEST_ARTIFACTS overrides it.
        string folder = Environment.GetEnvironmentVariable("MESH_TEST_ARTIFACTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "TestResults", "artifacts");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private Process StartCheck(string scripts, string chromium, string url, string victim, string screenshot)
    {
        var info = new ProcessStartInfo(BrowserTools.Node)
        {
            WorkingDirectory = scripts,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "dashboard-check.mjs", url, "3", victim, screenshot })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["MESH_CHROMIUM"] = chromium;
        info.Environment["MESH_BROWSER_TIMEOUT_MS"] = ((int)PageUp.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        Process process = Process.Start(info) ?? throw new InvalidOperationException("node did not start.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Cluster.Log($"browser stderr: {line}");
            }
        };
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<string> ReadLineAsync(Process process, TimeSpan timeout)
    {
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"The browser script printed nothing for {timeout.TotalSeconds:0} s.");
        }

        Assert.False(line is null, "The browser script exited without an answer (see its standard error above).");
        Assert.False(line!.StartsWith("FAIL", StringComparison.Ordinal), $"The browser check failed: {line}");
        return line;
    }

    private static async Task<bool> WaitForExitAsync(Process process, TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
