namespace Mesh.Cluster.Tests.Harness;

/// <summary>A test class with its own <see cref="TestCluster"/>, stopped after each test whatever happened.</summary>
public abstract class ClusterTest(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>Gets this test's cluster.</summary>
    internal TestCluster Cluster { get; } = new(output);

    /// <inheritdoc/>
    public virtual Task InitializeAsync() => Cluster.InitializeAsync();

    /// <inheritdoc/>
    public virtual Task DisposeAsync() => Cluster.DisposeAsync().AsTask();

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
