using Mesh.Membership;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Runtime.Tests.Membership;

/// <summary>Membership wired to real runtimes the way the host wires it (<see cref="MembershipService.Create"/>).</summary>
public sealed class RuntimeMembershipTests
{
    [Fact]
    public async Task Runtimes_wired_to_membership_see_each_other_and_each_others_run_time_capabilities()
    {
        var network = new SimulatedNetwork();
        await using TestNode a = await TestNode.StartAsync(["probe"]);
        await using TestNode b = await TestNode.StartAsync(["probe"]);
        var changesOnB = new System.Collections.Concurrent.ConcurrentQueue<MembershipChangedEventArgs>();
        b.Mesh.MembershipChanged += (_, change) => changesOnB.Enqueue(change);

        await using MembershipService membershipA = Wire(a, network, "10.0.0.1:7400", "node-a", []);
        await using MembershipService membershipB = Wire(b, network, "10.0.0.2:7400", "node-b", ["10.0.0.1:7400"]);
        await membershipA.StartAsync(CancellationToken.None);
        await membershipB.StartAsync(CancellationToken.None);

        Assert.Equal(["node-a", "node-b"], b.Mesh.Members.Select(m => m.Name).Order(StringComparer.Ordinal));
        Assert.Equal("10.0.0.2:7400", b.Runtime.Self.Endpoint);
        // MembershipChanged is raised on the runtime's event pump, after the view is in effect.
        await Poll.UntilAsync(() => changesOnB.Any(c => c.Kind == MembershipChangeKind.Up && c.Node.Name == "node-a"), "node-b raises node-a up", MembershipCluster.Deadline);
        await Poll.UntilAsync(() => a.Mesh.Members.Count == 2, "node-a sees node-b", MembershipCluster.Deadline);

        await a.Mesh.RegisterCapabilitiesAsync(["other"]);

        await Poll.UntilAsync(() => b.Mesh.Members.Single(m => m.Name == "node-a").Capabilities.Contains("other"), "node-b learns node-a serves 'other'", MembershipCluster.Deadline);
        await Poll.UntilAsync(() => changesOnB.Any(c => c.Kind == MembershipChangeKind.CapabilitiesChanged && c.Node.Name == "node-a"), "node-b raises node-a's new capabilities", MembershipCluster.Deadline);
    }

    private static MembershipService Wire(TestNode node, SimulatedNetwork network, string endpoint, string name, string[] seeds)
    {
        MeshOptions options = node.Services.GetRequiredService<IOptions<MeshOptions>>().Value;
        var copy = new MeshOptions { NodeName = name, ClusterName = options.ClusterName, ShardCount = options.ShardCount };
        copy.Membership.ProbeInterval = TimeSpan.FromMilliseconds(100);
        copy.Membership.ProbeTimeout = TimeSpan.FromMilliseconds(60);
        copy.Membership.JoinRetryInterval = TimeSpan.FromMilliseconds(100);
        foreach (string seed in seeds)
        {
            copy.Seeds.Add(seed);
        }

        MembershipService service = MembershipService.Create(node.Runtime, network.For(endpoint), copy, endpoint, NullLoggerFactory.Instance);
        network.Listen(endpoint, service);
        return service;
    }
}
