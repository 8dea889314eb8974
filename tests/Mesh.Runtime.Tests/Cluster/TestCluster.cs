using Mesh.Transport;
using Mesh.Transport.Memory;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>Two or three <see cref="ClusterNode"/>s on a private in-memory network, stopped together.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private TestCluster(ClusterNode[] nodes)
    {
        Nodes = nodes;
    }

    public ClusterNode[] Nodes { get; }

    public ClusterNode this[int index] => Nodes[index];

    public static Task<TestCluster> StartAsync(int count, Dictionary<string, string?>? configuration = null) =>
        StartAsync(Enumerable.Repeat<string[]>(["probe"], count).ToArray(), configuration);

    public static Task<TestCluster> StartAsync(string[][] capabilities, Dictionary<string, string?>? configuration = null)
    {
        var network = new InMemoryNetwork();
        return StartAsync(capabilities, i => new InMemoryTransport("node" + i, network), configuration);
    }

    /// <summary>Starts a node per entry of <paramref name="capabilities"/>, node <c>i</c> on <c>transport(i)</c>.</summary>
    public static async Task<TestCluster> StartAsync(string[][] capabilities, Func<int, ITransport> transport, Dictionary<string, string?>? configuration = null)
    {
        var nodes = new List<ClusterNode>();
        try
        {
            for (int i = 0; i < capabilities.Length; i++)
            {
                nodes.Add(await ClusterNode.StartAsync(capabilities[i], transport(i), configuration));
            }
        }
        catch
        {
            foreach (ClusterNode node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }

        var cluster = new TestCluster([.. nodes]);
        cluster.ApplyView();
        return cluster;
    }

    /// <summary>Makes every node see every node up.</summary>
    public void ApplyView()
    {
        MeshNode[] members = [.. Nodes.Select(n => n.Member())];
        foreach (ClusterNode node in Nodes)
        {
            node.See(members);
        }
    }

    /// <summary>Finds a fresh key that <paramref name="owner"/> owns in the view <paramref name="viewer"/> has.</summary>
    public static string KeyOwnedBy(ClusterNode viewer, ClusterNode owner, string capability = "probe")
    {
        for (int i = 0; i < 10_000; i++)
        {
            string key = TestNode.NewKey();
            if (viewer.Runtime.OwnerOf(capability, key)?.Name == owner.Name)
            {
                return key;
            }
        }

        throw new InvalidOperationException($"No key of 10,000 falls to {owner.Name}.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ClusterNode node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
