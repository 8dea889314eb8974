using Mesh.Transport;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>The same remote call over the real TCP transport (TLS 1.3, mutual authentication) on 127.0.0.1.</summary>
public sealed class TcpRemoteCallTests
{
    [Fact]
    public async Task Calls_and_one_way_messages_cross_nodes_over_tcp_with_mutual_tls()
    {
        var metrics = new TransportMetrics();
        await using ClusterNode a = await ClusterNode.StartAsync(["probe"], new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), metrics, NullLogger.Instance));
        await using ClusterNode b = await ClusterNode.StartAsync(["probe"], new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), metrics, NullLogger.Instance));
        a.See(a.Member(), b.Member());
        b.See(a.Member(), b.Member());
        string key = TestCluster.KeyOwnedBy(a, b);
        IProbeActor actor = a.Mesh.GetActor<IProbeActor>(key);

        Assert.Equal(1, await actor.IncrementAsync().AsTask().Within());
        await actor.AppendOneWayAsync(7).AsTask().Within();
        Assert.Equal(new[] { 7 }, await actor.ReadAsync().AsTask().Within());
        await Assert.ThrowsAsync<ActorInvocationException>(() => actor.ThrowAsync("over tcp").AsTask()).Within();
        Assert.Equal(1, b.Probe.Count("created:" + key));
        Assert.Equal(2, await b.Mesh.GetActor<IProbeActor>(key).IncrementAsync().AsTask().Within());
        metrics.Dispose();
    }
}
