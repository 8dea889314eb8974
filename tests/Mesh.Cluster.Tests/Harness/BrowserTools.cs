using System.Diagnostics;
using System.Text;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>
/// Makes sure the browser test can run: Chromium (Debian's package, <c>/usr/bin/chromium</c>, or <c>MESH_CHROMIUM</c>),
/// Node.js with npm, and playwright-core in the script folder. What is missing is installed (apt needs root, as in CI);
/// what cannot be installed fails the test with what to do.
/// </summary>
internal static class BrowserTools
{
    /// <summary>Gets the Node.js executable (found on <c>PATH</c>).</summary>
    public const string Node = "node";

    private static readonly SemaphoreSlim s_gate = new(1, 1);

    /// <summary>Installs what is missing and returns the Chromium executable.</summary>
    /// <param name="scripts">The folder with package.json and the check script.</param>
    /// <param name="log">Where to say what is installed.</param>
    /// <param name="timeout">The most each installation step may take.</param>
    public static async Task<string> EnsureAsync(string scripts, Action<string> log, TimeSpan timeout)
    {
        await s_gate.WaitAsync();
        try
        {
            string chromium = Environment.GetEnvironmentVariable("MESH_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
            var packages = new List<string>();
            if (!File.Exists(chromium))
            {
                packages.Add("chromium");
            }

            if (!OnPath(Node))
            {
                packages.Add("nodejs");
            }

            if (!OnPath("npm"))
            {
                packages.Add("npm");
            }

            if (packages.Count > 0)
            {
                Assert.True(Environment.UserName == "root", $"The browser test needs {string.Join(", ", packages)} and installs them with apt-get, which needs root: run it as root (as CI does) or install them first.");
                log($"installing {string.Join(", ", packages)} with apt-get");
                await RunAsync("apt-get", ["update", "-qq"], scripts, timeout);
                await RunAsync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", .. packages], scripts, timeout);
            }

            Assert.True(File.Exists(chromium), $"Chromium is not at {chromium} after installing it; set MESH_CHROMIUM to its path.");
            if (!File.Exists(Path.Combine(scripts, "node_modules", "playwright-core", "package.json")))
            {
                log("installing playwright-core with npm");

                // No lock file: package.json pins the exact version, and a lock would record a registry's address.
                await RunAsync("npm", ["install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"], scripts, timeout);
            }

            return chromium;
        }
        finally
        {
            s_gate.Release();
        }
    }

    private static bool OnPath(string program)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (string folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, program)))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task RunAsync(string program, string[] arguments, string folder, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new Xunit.Sdk.XunitException($"{program} {string.Join(' ', arguments)} took more than {timeout.TotalMinutes:0} min:{Environment.NewLine}{Tail(output)}");
        }

        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}:{Environment.NewLine}{Tail(output)}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Tail(StringBuilder output)
    {
        lock (output)
        {
            string text = output.ToString();
            return text.Length <= 4000 ? text : text[^4000..];
        }
    }
}
