namespace Mesh.Runtime.Tests.Hosting;

/// <summary>What tests that run real hosts on loopback share: each node's configuration (an ephemeral port, the test's
/// own development CA, the default probe timings) and a bounded wait for the cluster to converge.</summary>
internal static class LoopbackNodes
{
    public static readonly TimeSpan Convergence = TimeSpan.FromSeconds(20);

    public static Dictionary<string, string?> Configuration(string certificates, string name, string? seed)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Mesh:NodeName"] = name,
            ["Mesh:Endpoint"] = "127.0.0.1:0",
            ["Mesh:Tls:DevelopmentCertificateFolder"] = certificates,

            // The default probe timings: these tests need no fast failure detection, and a 100 ms probe timeout made a
            // loaded machine suspect a live node, which could then be declared down instead of seen to leave.
        };
        if (seed is not null)
        {
            configuration["Mesh:Seeds:0"] = seed;
        }

        return configuration;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + (long)Convergence.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"Timed out after {Convergence} waiting for {what}.");
            await Task.Delay(20);
        }
    }
}
