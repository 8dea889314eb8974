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
    [InlineData("Mesh:Tls:CertificatePath", "/nonexistent/node.pfx", "Mesh:Tls:CertificatePath is '/nonexistent/node.pfx', which does not exist")]
    [InlineData("Mesh:Tls:ClusterCaPath", "/nonexistent/ca.pem", "Mesh:Tls:ClusterCaPath is '/nonexistent/ca.pem', which does not exist")]
    [InlineData("Mesh:Tls:PinnedThumbprints:0", "ABCD", "Mesh:Tls:PinnedThumbprints contains 'ABCD', which is not a SHA-256 thumbprint")]
    public async Task A_bad_option_stops_the_host_with_a_message_that_names_it(string key, string value, string expected)
    {
        using IHost host = TestNode.Build(["probe"], new() { [key] = value });

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Timeout));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
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
            ["Mesh:Tls:PinnedThumbprints:0"] = new string('a', 64),
        });

        Assert.Contains("probe", node.Mesh.Capabilities);
        Assert.Equal(TimeSpan.FromSeconds(7), node.Runtime.DefaultCallTimeout);
        Assert.Equal(17, node.Runtime.MailboxCapacity);
        MeshOptions options = node.Services.GetRequiredService<IOptions<MeshOptions>>().Value;
        Assert.Equal(MeshTransport.Tcp, options.Transport);
        Assert.Equal(65536, options.MaxFrameSize);
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
}

public interface INotAContract : IMeshActor
{
}
