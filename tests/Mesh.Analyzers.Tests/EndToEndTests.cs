using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Mesh.Analyzers.Tests;

/// <summary>
/// Builds the small project in EndToEnd/ (one mistake per line) with <c>dotnet build</c>, the analyzers loaded from
/// their built assemblies exactly as a package's analyzers/dotnet/cs folder loads them, and asserts the MESH ids,
/// files and lines of the build output: what a user sees in the error list.
/// </summary>
public sealed partial class EndToEndTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);

    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mesh-e2e-" + Guid.NewGuid().ToString("N"))).FullName;

    [Fact]
    public async Task CommandLineBuildReportsEveryMistakeAtItsLine()
    {
        string project = WriteProject();

        (int exitCode, string log) = await BuildAsync(project);

        SortedSet<string> reported = Reported(log, "MESH");
        string[] expected =
        [
            "Actors.cs(15): warning MESH0014",
            "Actors.cs(17): warning MESH0012",
            "Actors.cs(20): error MESH0010",
            "Actors.cs(25): error MESH0011",
            "Collision.cs(7): warning MESH0013",
            "Contracts.cs(16): error MESH0002",
            "Contracts.cs(19): error MESH0003",
            "Contracts.cs(20): error MESH0004",
            "Contracts.cs(21): error MESH0005",
            "Contracts.cs(22): error MESH0006",
            "Contracts.cs(23): error MESH0007",
            "Contracts.cs(24): error MESH0008",
            "Contracts.cs(26): error MESH0009",
            "Contracts.cs(30): error MESH0015",
        ];
        Assert.Equal(expected, reported);

        // No other diagnostic: a compiler error would have hidden every analyzer diagnostic, and an analyzer that
        // failed to load or threw (CS8032, AD0001) would show up here.
        Assert.Empty(Reported(log, "CS", "AD"));
        Assert.NotEqual(0, exitCode);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process that is shutting down: the directory is in the temp folder anyway.
        }
    }

    private string WriteProject()
    {
        string sources = Path.Combine(AppContext.BaseDirectory, "EndToEnd");
        foreach (string file in Directory.GetFiles(sources))
        {
            File.Copy(file, Path.Combine(_directory, Path.GetFileName(file)));
        }

        // Everything comes from this test's output folder, so the build needs no package source: Mesh.Abstractions and
        // MemoryPack.Core as plain references, the analyzers and code fixes as analyzer assemblies.
        string Here(string file) => Path.Combine(AppContext.BaseDirectory, file);
        string project = Path.Combine(_directory, "Mistakes.csproj");
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <Reference Include="{Here("Mesh.Abstractions.dll")}" />
                <Reference Include="{Here("MemoryPack.Core.dll")}" />
                <Analyzer Include="{Here("Mesh.Analyzers.dll")}" />
                <Analyzer Include="{Here("Mesh.Analyzers.CodeFixes.dll")}" />
                <GlobalAnalyzerConfigFiles Include="Mistakes.globalconfig" />
              </ItemGroup>
            </Project>
            """);
        return project;
    }

    private async Task<(int ExitCode, string Log)> BuildAsync(string project)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // No build servers or reused nodes: nothing outlives the test.
        foreach (string argument in new[] { "build", project, "-nologo", "-v:minimal", "-nodeReuse:false", "--disable-build-servers", "-p:UseSharedCompilation=false" })
        {
            start.ArgumentList.Add(argument);
        }

        // The test host may run inside an MSBuild invocation; its variables would steer the child build.
        foreach (string name in start.Environment.Keys.Where(static k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";

        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(BuildTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet build did not finish within {BuildTimeout}:\n{log}");
        }

        process.WaitForExit();
        output.WriteLine($"dotnet build exited with {process.ExitCode} after {stopwatch.Elapsed.TotalSeconds:F1} s:\n{log}");
        lock (log)
        {
            return (process.ExitCode, log.ToString());
        }
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    /// <summary>The distinct <c>File.cs(line): severity ID</c> of every diagnostic in the log whose id starts with one of <paramref name="prefixes"/>.</summary>
    private static SortedSet<string> Reported(string log, params string[] prefixes)
    {
        // MSBuild prints each diagnostic twice (as it happens and in the summary); a set keeps one.
        var reported = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match match in DiagnosticLine().Matches(log))
        {
            string id = match.Groups["id"].Value;
            if (prefixes.Any(p => id.StartsWith(p, StringComparison.Ordinal)))
            {
                reported.Add($"{Path.GetFileName(match.Groups["file"].Value)}({match.Groups["line"].Value}): {match.Groups["severity"].Value} {id}");
            }
        }

        return reported;
    }

    // /tmp/mesh-e2e-.../Contracts.cs(19,5): error MESH0003: Actor method 'Score' returns 'int': ... [/tmp/.../Mistakes.csproj]
    [GeneratedRegex(@"^\s*(?<file>[^\r\n]+?\.cs)\((?<line>\d+),\d+\): (?<severity>error|warning|info) (?<id>[A-Z]+\d+):", RegexOptions.Multiline)]
    private static partial Regex DiagnosticLine();
}
