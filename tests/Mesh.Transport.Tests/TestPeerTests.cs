using System.Diagnostics;
using Mesh.Transport.Tests.Conformance;

namespace Mesh.Transport.Tests;

public sealed class TestPeerTests
{
    [Fact]
    public async Task The_test_peer_is_built_and_refuses_a_transport_it_cannot_host()
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ProcessPeer.PeerPath);
        info.ArgumentList.Add("--transport");
        info.ArgumentList.Add("memory");
        using Process process = Process.Start(info)!;
        try
        {
            Task<string> errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(2, process.ExitCode);
            Assert.Contains("cannot host transport 'memory'", await errors, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
