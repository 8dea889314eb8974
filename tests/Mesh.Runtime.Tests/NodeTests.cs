using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Mesh.Runtime.Tests;

public sealed class NodeTests
{
    [Fact]
    public async Task A_call_to_a_capability_this_node_lacks_fails_at_once()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);

        ValueTask<int> call = node.Mesh.GetActor<IOtherActor>("x").PingAsync();

        Assert.True(call.IsFaulted);
        CapabilityUnavailableException error = await Assert.ThrowsAsync<CapabilityUnavailableException>(async () => await call);
        Assert.Equal("other", error.Capability);
    }

    [Fact]
    public async Task Capabilities_registered_at_run_time_are_served()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IOtherActor other = node.Mesh.GetActor<IOtherActor>("x");
        await Assert.ThrowsAsync<CapabilityUnavailableException>(async () => await other.PingAsync());

        await node.Mesh.RegisterCapabilitiesAsync(["other"]);

        Assert.Equal(42, await other.PingAsync());
        Assert.Equal(["other", "probe"], node.Mesh.Capabilities.Order());
        await Assert.ThrowsAsync<ArgumentException>(async () => await node.Mesh.RegisterCapabilitiesAsync(["Not Valid"]));
        ArgumentException missing = await Assert.ThrowsAsync<ArgumentException>(async () => await node.Mesh.RegisterCapabilitiesAsync(["nobody-implements-this"]));
        Assert.Contains("[MeshActor(\"nobody-implements-this\")]", missing.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("nobody-implements-this", node.Mesh.Capabilities);
    }

    [Theory]
    [InlineData("Mesh:MailboxCapacity", "0", "Mesh:MailboxCapacity must be at least 1")]
    [InlineData("Mesh:MailboxCapacity", "many", "Mesh:MailboxCapacity is 'many'")]
    [InlineData("Mesh:DefaultCallTimeout", "-00:00:01", "Mesh:DefaultCallTimeout must be positive")]
    [InlineData("Mesh:IdleTimeout", "soon", "Mesh:IdleTimeout is 'soon'")]
    [InlineData("Mesh:ShutdownTimeout", "00:00:00", "Mesh:ShutdownTimeout must be positive")]
    [InlineData("Mesh:Capabilities:0", "Bad Name", "Mesh:Capabilities contains 'Bad Name'")]
    [InlineData("Mesh:Transport", "Carrier-Pigeon", "Mesh:Transport is 'Carrier-Pigeon': use Quic or Tcp")]
    [InlineData("Mesh:ShardCount", "0", "Mesh:ShardCount must be between 1 and 1048576 (was 0)")]
    [InlineData("Mesh:MaxFrameSize", "100", "Mesh:MaxFrameSize must be between 1024 and 1073741824 bytes")]
    [InlineData("Mesh:MaxFrameSize", "big", "Mesh:MaxFrameSize is 'big'")]
    [InlineData("Mesh:ReceiveSpinTime", "00:00:00.011", "Mesh:ReceiveSpinTime must be between 0 and 10 ms (was 00:00:00.0110000)")]
    [InlineData("Mesh:ReceiveSpinTime", "-00:00:00.001", "Mesh:ReceiveSpinTime must be between 0 and 10 ms (was -00:00:00.0010000)")]
    [InlineData("Mesh:Tls:CertificatePath", "/nonexistent/node.pfx", "Mesh:Tls:CertificatePath is '/nonexistent/node.pfx', which does not exist")]
    [InlineData("Mesh:Tls:ClusterCaPath", "/nonexistent/ca.pem", "Mesh:Tls:ClusterCaPath is '/nonexistent/ca.pem', which does not exist")]
    [InlineData("Mesh:Tls:PinnedThumbprints:0", "ABCD", "Mesh:Tls:PinnedThumbprints contains 'ABCD', which is not a SHA-256 thumbprint")]
    [InlineData("Mesh:Endpoint", "localhost", "Mesh:Endpoint: 'localhost' is not 'host:port'")]
    [InlineData("Mesh:Endpoint", "::1:7400", "write IPv6 addresses in brackets")]
    [InlineData("Mesh:Endpoint", "127.0.0.1:70000", "'127.0.0.1:70000' has no valid port")]
    [InlineData("Mesh:Seeds:0", "10.0.0.1:0", "Mesh:Seeds: '10.0.0.1:0' has no valid port")]
    [InlineData("Mesh:Seeds:0", "10.0.0.1:7400", "Mesh:Seeds or Mesh:DnsDiscovery is set but Mesh:Endpoint is not")]
    [InlineData("Mesh:AdvertisedEndpoint", "10.0.0.1:7400", "Mesh:AdvertisedEndpoint is set but Mesh:Endpoint is not")]
    [InlineData("Mesh:DnsDiscovery:Port", "http", "Mesh:DnsDiscovery:Port is 'http'")]
    [InlineData("Mesh:DnsDiscovery:Port", "0", "Mesh:DnsDiscovery:Port must be between 1 and 65535")]
    [InlineData("Mesh:NodeName", "node one", "Mesh:NodeName is 'node one'")]
    [InlineData("Mesh:ClusterName", "", "Mesh:ClusterName is ''")]
    [InlineData("Mesh:Membership:ProbeInterval", "fast", "Mesh:Membership:ProbeInterval is 'fast'")]
    [InlineData("Mesh:Membership:ProbeTimeout", "00:00:05", "Mesh:Membership:ProbeTimeout (00:00:05) must be shorter than Mesh:Membership:ProbeInterval")]
    [InlineData("Mesh:Membership:SuspicionTimeout", "00:00:00", "Mesh:Membership:SuspicionTimeout must be positive")]
    [InlineData("Mesh:Membership:IndirectProbes", "99", "Mesh:Membership:IndirectProbes must be between 0 and 16")]
    public async Task A_bad_option_stops_the_host_with_a_message_that_names_it(string key, string value, string expected)
    {
        using IHost host = TestNode.Build(["probe"], new() { [key] = value });

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Timeout));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cluster_options_come_from_configuration_and_the_builder()
    {
        using IHost host = TestNode.Build(["probe"], new()
        {
            ["Mesh:Endpoint"] = "0.0.0.0:7401",
            ["Mesh:AdvertisedEndpoint"] = "10.1.2.3:7401",
            ["Mesh:Seeds:0"] = "10.1.2.4:7401",
            ["Mesh:DnsDiscovery:Host"] = "mesh-headless.default.svc.cluster.local",
            ["Mesh:DnsDiscovery:Port"] = "7401",
            ["Mesh:ClusterName"] = "prod-eu",
            ["Mesh:Membership:ProbeInterval"] = "00:00:00.200",
            ["Mesh:Membership:ProbeTimeout"] = "00:00:00.100",
            ["Mesh:Membership:IndirectProbes"] = "2",
        });

        MeshOptions options = host.Services.GetRequiredService<IOptions<MeshOptions>>().Value;

        Assert.Equal("0.0.0.0:7401", options.Endpoint);
        Assert.Equal("10.1.2.3:7401", options.AdvertisedEndpoint);
        Assert.Equal(["10.1.2.4:7401"], options.Seeds);
        Assert.Equal("mesh-headless.default.svc.cluster.local", options.DnsDiscoveryHost);
        Assert.Equal(7401, options.DnsDiscoveryPort);
        Assert.Equal("prod-eu", options.ClusterName);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.Membership.ProbeInterval);
        Assert.Equal(2, options.Membership.IndirectProbes);
    }

    [Fact]
    public void The_builder_sets_cluster_options_and_refuses_bad_ones_at_once()
    {
        var services = new ServiceCollection();
        services.AddMesh(mesh => mesh.ListenOn("127.0.0.1:0").UseSeeds("127.0.0.1:7400", "[::1]:7400").UseDnsDiscovery("mesh.local", 7402).WithNodeName("node-1"));
        using ServiceProvider provider = services.BuildServiceProvider();
        MeshOptions options = provider.GetRequiredService<IOptions<MeshOptions>>().Value;

        Assert.Equal("127.0.0.1:0", options.Endpoint);
        Assert.Equal(["127.0.0.1:7400", "[::1]:7400"], options.Seeds);
        Assert.Equal(("mesh.local", 7402), (options.DnsDiscoveryHost, options.DnsDiscoveryPort));
        Assert.Equal("node-1", options.NodeName);
        Assert.Contains("not 'host:port'", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddMesh(m => m.ListenOn("nowhere"))).Message, StringComparison.Ordinal);
        Assert.Contains("has no valid port", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddMesh(m => m.UseSeeds("127.0.0.1:0"))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddMesh(m => m.UseDnsDiscovery("mesh.local", 0)));
        Assert.Contains("not a node name", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddMesh(m => m.WithNodeName("a/b"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_capability_without_an_implementation_stops_the_host()
    {
        using IHost host = TestNode.Build(["probe", "nobody-implements-this"]);

        InvalidOperationException error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Timeout));

        Assert.Contains("'nobody-implements-this'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_are_read_from_the_Mesh_configuration_section()
    {
        await using TestNode node = await TestNode.StartAsync([], new()
        {
            ["Mesh:Capabilities:0"] = "probe",
            ["Mesh:DefaultCallTimeout"] = "00:00:07",
            ["Mesh:MailboxCapacity"] = "17",
            ["Mesh:Transport"] = "tcp",
            ["Mesh:MaxFrameSize"] = "65536",
            ["Mesh:ReceiveSpinTime"] = "00:00:00.0002",
            ["Mesh:Tls:PinnedThumbprints:0"] = new string('a', 64),
        });

        Assert.Contains("probe", node.Mesh.Capabilities);
        Assert.Equal(TimeSpan.FromSeconds(7), node.Runtime.DefaultCallTimeout);
        Assert.Equal(17, node.Runtime.MailboxCapacity);
        MeshOptions options = node.Services.GetRequiredService<IOptions<MeshOptions>>().Value;
        Assert.Equal(MeshTransport.Tcp, options.Transport);
        Assert.Equal(65536, options.MaxFrameSize);
        Assert.Equal(TimeSpan.FromMicroseconds(200), options.ReceiveSpinTime);
        Assert.Equal(TimeSpan.FromMicroseconds(200), Mesh.Hosting.ClusterNode.QuicOptionsFrom(options).ReceiveSpinTime);
        Assert.Equal(TimeSpan.FromMicroseconds(50), Mesh.Hosting.ClusterNode.QuicOptionsFrom(new MeshOptions()).ReceiveSpinTime);
        Assert.Equal([new string('a', 64)], options.Tls.PinnedThumbprints);
        Assert.Equal(1, await node.Mesh.GetActor<IProbeActor>(TestNode.NewKey()).IncrementAsync());
    }

    [Fact]
    public async Task GetActor_of_an_interface_that_is_not_a_contract_explains_what_to_do()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => node.Mesh.GetActor<INotAContract>("x"));

        Assert.Contains("[MeshActor(", error.Message, StringComparison.Ordinal);
    }
    [Fact]
    public async Task Stats_count_live_activations_and_every_call_run_even_by_deactivated_ones()
    {
        await using TestNode node = await TestNode.StartAsync(["probe"]);
        IProbeActor a = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        IProbeActor b = node.Mesh.GetActor<IProbeActor>(TestNode.NewKey());
        Messaging.NodeStats before = node.Runtime.ReadStats();

        for (int i = 0; i < 3; i++)
        {
            await a.IncrementAsync();
        }

        await b.IncrementAsync();
        await b.AppendOneWayAsync(1);
        int[] appended = await b.ReadAsync();
        Assert.Equal([1], appended);
        Assert.Equal(new Messaging.NodeStats(before.Activations + 2, before.Calls + 6), node.Runtime.ReadStats());

        await a.DeactivateAsync();
        while (node.Runtime.ReadStats().Activations != before.Activations + 1)
        {
            await Task.Delay(5, TestContext.Timeout);
        }

        Assert.Equal(new Messaging.NodeStats(before.Activations + 1, before.Calls + 7), node.Runtime.ReadStats());
    }
}

public interface INotAContract : IMeshActor
{
}
