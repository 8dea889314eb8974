using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Quic;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests.Quic;

/// <summary>Who may connect over QUIC: a chain to the cluster CA or a pinned thumbprint, valid now, speaking mesh/1.</summary>
public sealed class QuicTransportSecurityTests(ITestOutputHelper output)
{
    private const int RefusedEventId = 1100;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task NodeFromAnotherCaIsRefusedCountedAndLogged()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(
            TestCertificates.Credentials(TestCertificates.OtherCaNode, [TestCertificates.ClusterCa]));

        await AssertRefusedAsync(server, client.Transport, "untrusted_certificate");
    }

    [Fact]
    public async Task NodeWithAnExpiredCertificateIsRefused()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.ExpiredNode));

        await AssertRefusedAsync(server, client.Transport, "expired_certificate");
    }

    [Fact]
    public async Task PinnedButExpiredCertificateIsRefused()
    {
        // The native verifier accepts any pinned leaf; the managed policy still refuses one outside its dates.
        string expired = TransportCredentials.ThumbprintOf(TestCertificates.ExpiredNode);
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA, expired)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.ExpiredNode));

        await AssertRefusedAsync(server, client.Transport, "expired_certificate");
    }

    [Fact]
    public async Task ServerFromAnotherCaIsRefusedByTheClient()
    {
        await using QuicTestNode server = await new QuicTestNode(
            TestCertificates.Credentials(TestCertificates.OtherCaNode, [TestCertificates.ClusterCa, TestCertificates.OtherCa])).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);

        TransportException refused = await Assert.ThrowsAsync<TransportException>(
            async () => await client.Transport.ConnectAsync(server.EndPoint, cts.Token));
        output.WriteLine(refused.Message);
        Assert.Contains("untrusted_certificate", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.Metrics.HandshakeFailures);
        Assert.Null(await AcceptWithinAsync(server, TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task PinnedThumbprintsAreAcceptedWithoutAnyTrustedCa()
    {
        // Neither side trusts a CA: each accepts the other only because it pinned the other's certificate.
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(
            TestCertificates.NodeA, [], TransportCredentials.ThumbprintOf(TestCertificates.OtherCaNode))).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(
            TestCertificates.OtherCaNode, [], TransportCredentials.ThumbprintOf(TestCertificates.NodeA)));
        using var cts = new CancellationTokenSource(Timeout);

        await using ITransportConnection outbound = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await outbound.Output.WriteAsync("hi"u8.ToArray(), cts.Token);
        await using ITransportConnection? inbound = await server.Listener!.AcceptAsync(cts.Token);

        Assert.NotNull(inbound);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.OtherCaNode), inbound.Peer.Thumbprint);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeA), outbound.Peer.Thumbprint);
        Assert.Equal(0, server.Metrics.HandshakeFailures);
        Assert.Equal(0, client.Metrics.HandshakeFailures);
    }

    [Fact]
    public async Task ClientWithoutACertificateIsRefused()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        // TransportCredentials cannot be made without a certificate, so this peer speaks QUIC directly.
        using QuicEndpoint anonymous = QuicEndpoint.Create(new QuicEndpointOptions
        {
            TrustedCaPem = TestCertificates.ClusterCa.ExportCertificatePem(),
        });

        await ConnectRawAsync(anonymous, server);
        await AssertServerRefusedAsync(server, "no_certificate");
    }

    [Fact]
    public async Task ClientOfferingAnotherProtocolVersionIsRefused()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        using QuicEndpoint future = QuicEndpoint.Create(new QuicEndpointOptions
        {
            CertificateChainPem = TestCertificates.NodeB.ExportCertificatePem(),
            PrivateKeyPem = TestCertificates.NodeB.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem(),
            TrustedCaPem = TestCertificates.ClusterCa.ExportCertificatePem(),
            ApplicationProtocol = "mesh/2",
        });

        await ConnectRawAsync(future, server);
        await AssertServerRefusedAsync(server, "wrong_protocol");
    }

    private async Task AssertRefusedAsync(QuicTestNode server, ITransport client, string kind)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            // In TLS 1.3 the client may finish before the server has checked its certificate: then the refusal ends
            // the stream instead of the connect.
            await using ITransportConnection connection = await client.ConnectAsync(server.EndPoint, cts.Token);
            await connection.Output.WriteAsync("hello"u8.ToArray(), cts.Token);
            await Assert.ThrowsAsync<TransportException>(() => QuicTransportTests.ReadToEndAsync(connection.Input, 1024, cts.Token));
        }
        catch (TransportException refused)
        {
            output.WriteLine($"client: {refused.Message}");
        }

        await AssertServerRefusedAsync(server, kind);
    }

    private async Task AssertServerRefusedAsync(QuicTestNode server, string kind)
    {
        Assert.True(await QuicTestNode.EventuallyAsync(() => server.Metrics.HandshakeFailures >= 1, Timeout), "the server never counted the refusal");
        Assert.Equal(1, server.Metrics.HandshakeFailures);
        var entry = Assert.Single(server.Logger.Entries, e => e.Id.Id == RefusedEventId);
        output.WriteLine($"server: {entry.Message}");
        Assert.Contains($"({kind})", entry.Message, StringComparison.Ordinal);
        Assert.Null(await AcceptWithinAsync(server, TimeSpan.FromMilliseconds(300)));
    }

    private static async Task ConnectRawAsync(QuicEndpoint client, QuicTestNode server)
    {
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            using QuicConnection connection = await client.ConnectAsync((IPEndPoint)server.EndPoint, "mesh", cts.Token);
            using QuicStream stream = connection.OpenStream();
            await stream.SendAsync(new byte[] { QuicTransport.StreamHeader });
            await connection.Closed.WaitAsync(cts.Token);
        }
        catch (QuicTransportException)
        {
            // Refused while connecting.
        }
    }

    /// <summary>Nothing must come out of the listener; waiting a little gives a wrongly accepted stream time to show.</summary>
    private static async Task<ITransportConnection?> AcceptWithinAsync(QuicTestNode server, TimeSpan wait)
    {
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await server.Listener!.AcceptAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
