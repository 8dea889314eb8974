using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>An echo peer the "peer dies" test can kill without a goodbye.</summary>
public abstract class KillablePeer : IAsyncDisposable
{
    /// <summary>Gets the address the peer listens on.</summary>
    public abstract EndPoint EndPoint { get; }

    /// <summary>Kills the peer: no close, no flush, no goodbye.</summary>
    public abstract void Kill();

    public abstract ValueTask DisposeAsync();
}

/// <summary>The test peer as a separate process (tests/Mesh.Transport.TestPeer), killed with its process tree.</summary>
internal sealed class ProcessPeer : KillablePeer
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private EndPoint _endPoint = new IPEndPoint(IPAddress.Loopback, 0);

    private ProcessPeer(Process process)
    {
        _process = process;
    }

    public override EndPoint EndPoint => _endPoint;

    /// <summary>The test peer's path, written into the test assembly at build time (see the project file).</summary>
    public static string PeerPath =>
        typeof(ProcessPeer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "TestPeerPath").Value!;

    /// <summary>Starts the peer with <c>--transport <paramref name="transport"/></c> and waits until it prints its port.</summary>
    public static async Task<ProcessPeer> StartAsync(string transport, IEnumerable<string> extraArguments)
    {
        Assert.True(File.Exists(PeerPath), $"The test peer is not built at {PeerPath}.");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(PeerPath);
        info.ArgumentList.Add("--transport");
        info.ArgumentList.Add(transport);
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        foreach (string argument in extraArguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("The test peer did not start.");
        var peer = new ProcessPeer(process);
        try
        {
            process.ErrorDataReceived += (_, e) =>
            {
                lock (peer._stderr)
                {
                    peer._stderr.AppendLine(e.Data);
                }
            };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(StartTimeout);
            while (true)
            {
                string? line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null)
                {
                    await process.WaitForExitAsync(timeout.Token);
                    throw new InvalidOperationException($"The test peer exited with code {process.ExitCode} before listening: {peer.Errors}");
                }

                if (line.StartsWith("PORT=", StringComparison.Ordinal))
                {
                    int port = int.Parse(line.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
                    peer._endPoint = new IPEndPoint(IPAddress.Loopback, port);
                    return peer;
                }
            }
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    private string Errors
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public override void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            _process.Dispose();
        }
    }
}
