namespace Mesh.Cluster.Tests.Harness;

/// <summary>A test class with its own <see cref="TestCluster"/> and, if it asks for one, a <see cref="NamespaceNetwork"/>:
/// the nodes are stopped and then the network removed after each test, whatever happened.</summary>
public abstract class ClusterTest(ITestOutputHelper output) : IAsyncLifetime
{
    private NamespaceNetwork? _network;

    /// <summary>Gets this test's cluster.</summary>
    internal TestCluster Cluster { get; } = new(output);

    /// <inheritdoc/>
    public Task InitializeAsync() => Cluster.InitializeAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        // Nodes first: a node process keeps its namespace alive until it exits.
        try
        {
            await Cluster.DisposeAsync();
        }
        finally
        {
            _network?.Dispose();
        }
    }

    /// <summary>Creates this test's network of namespaces, or fails the test saying why this machine cannot.</summary>
    internal NamespaceNetwork CreateNetwork(string name, int hosts, string? serviceName = null)
    {
        if (NamespaceNetwork.WhyUnavailable() is { } reason)
        {
            Assert.Fail($"This test needs network namespaces, which cannot be made here: {reason}");
        }

        _network = NamespaceNetwork.Create(name, hosts, Cluster.Log, serviceName);
        return _network;
    }

    /// <summary>Starts <paramref name="count"/> nodes serving "counter", named node1, node2, ..., and waits until they
    /// agree on the members and on every shard's owner.</summary>
    internal async Task<NodeProcess[]> StartCountersAsync(int count)
    {
        NodeSpec[] specs = Enumerable.Range(1, count).Select(static i => new NodeSpec($"node{i}", "counter")).ToArray();
        NodeProcess[] nodes = await Cluster.StartAsync(specs);
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);
        string?[] owners = await Cluster.WaitForSameOwnersAsync(nodes, "counter", Bounds.ViewConvergence);
        Cluster.Log($"{count} nodes agree: {TestCluster.Summarize(owners)}");
        return nodes;
    }
}
