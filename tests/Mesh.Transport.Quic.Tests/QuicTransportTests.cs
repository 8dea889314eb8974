using System.Diagnostics;
using Mesh.Transport.Quic.Interop;
using Xunit;
using Xunit.Abstractions;
using static Mesh.Transport.Quic.Tests.QuicTestHelpers;

namespace Mesh.Transport.Quic.Tests;

public sealed class QuicTransportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestCertificateAuthority _ca = new("Mesh test cluster CA");
    private readonly CancellationTokenSource _timeout = new(TestTimeout);

    private CancellationToken Timeout => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _ca.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1024)]
    [InlineData(1024 * 1024)]
    public async Task PayloadIsEchoedOverAStream(int size)
    {
        QuicEndpointOptions serverOptions = ServerOptions(_ca);
        // Small pipe thresholds so the 1 MB payload exercises pausing and resuming reads.
        serverOptions.ReceivePauseThreshold = 64 * 1024;
        serverOptions.ReceiveResumeThreshold = 32 * 1024;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        QuicEndpointOptions clientOptions = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        clientOptions.ReceivePauseThreshold = 64 * 1024;
        clientOptions.ReceiveResumeThreshold = 32 * 1024;
        using QuicEndpoint client = QuicEndpoint.Create(clientOptions);

        byte[] payload = new byte[size];
        new Random(size).NextBytes(payload);
        Task echo = EchoOneStreamAsync(server, size, Timeout);

        byte[] received;
        using (QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout))
        using (QuicStream stream = connection.OpenStream())
        {
            await stream.SendAsync(payload, finish: true);
            received = await ReadToEndAsync(stream.Input, size, Timeout);
        }

        await echo.WaitAsync(Timeout);
        Assert.Equal(payload, received);
        Assert.Equal(0, server.CallbackFailures);
        Assert.Equal(0, client.CallbackFailures);
    }

    [Fact]
    public async Task ManyBuffersSentInOneBatchArriveInOrder()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client")));
        var buffers = new ReadOnlyMemory<byte>[100];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = new byte[] { (byte)i, (byte)(i + 1), (byte)(i + 2) };
        }

        Task echo = EchoOneStreamAsync(server, 300, Timeout);
        using QuicConnection connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        using QuicStream stream = connection.OpenStream();
        await stream.SendAsync(buffers, finish: true);
        byte[] received = await ReadToEndAsync(stream.Input, 300, Timeout);

        byte[] expected = new byte[300];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i].Span.CopyTo(expected.AsSpan(i * 3));
        }

        Assert.Equal(expected, received);
        connection.Dispose();
        await echo.WaitAsync(Timeout);
    }

    [Fact]
    public async Task ClientWithACertificateFromAnotherCaIsRefusedAtHandshake()
    {
        using var otherCa = new TestCertificateAuthority("Some other CA");
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        // The client trusts the cluster CA (so it accepts the server) but presents a foreign certificate.
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, otherCa.IssueNode("intruder")));

        QuicHandshakeException clientSide = await ConnectExpectingRefusalAsync(client, server);
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.NotNull(clientSide.TlsAlert);
        Assert.False(server.HasPendingAccept);
        output.WriteLine($"client: {clientSide.Message} (alert {clientSide.TlsAlert}); server: {serverSide.Message}");
    }

    [Fact]
    public async Task ClientWithoutACertificateIsRefusedAtHandshake()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, credentials: null));

        QuicHandshakeException clientSide = await ConnectExpectingRefusalAsync(client, server);
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.NotNull(clientSide.TlsAlert);
        Assert.False(server.HasPendingAccept);
        output.WriteLine($"client: {clientSide.Message} (alert {clientSide.TlsAlert}); server: {serverSide.Message}");
    }

    [Fact]
    public async Task ClientOfferingAnotherAlpnIsRefusedAtHandshake()
    {
        using QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca));
        QuicEndpointOptions options = ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"));
        options.ApplicationProtocol = "mesh/0";
        using QuicEndpoint client = QuicEndpoint.Create(options);

        // The server refuses in its reply to the ClientHello, so connecting itself fails.
        QuicHandshakeException clientSide = await Assert.ThrowsAsync<QuicHandshakeException>(
            () => client.ConnectAsync(EndPointOf(server), "localhost", Timeout));
        QuicTransportException serverSide = await server.ReadRefusalAsync(Timeout);

        Assert.Equal(120, clientSide.TlsAlert); // no_application_protocol
        Assert.IsType<QuicHandshakeException>(serverSide);
        Assert.False(server.HasPendingAccept);
    }

    [Fact]
    public async Task ServerWithACertificateFromAnotherCaIsRefusedByTheClient()
    {
        using var otherCa = new TestCertificateAuthority("Some other CA");
        QuicEndpointOptions serverOptions = ServerOptions(otherCa);
        serverOptions.TrustedCaPem = _ca.CertificatePem;
        using QuicEndpoint server = QuicEndpoint.Create(serverOptions);
        using QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client")));

        QuicHandshakeException clientSide = await Assert.ThrowsAsync<QuicHandshakeException>(
            () => client.ConnectAsync(EndPointOf(server), "localhost", Timeout));

        output.WriteLine(clientSide.Message);
        Assert.False(server.HasPendingAccept);
    }

    [Fact]
    public void UnusableCertificateIsAConfigurationError()
    {
        QuicEndpointOptions options = ServerOptions(_ca);
        options.CertificateChainPem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";

        Assert.Throws<QuicConfigurationException>(() => QuicEndpoint.Create(options));
    }

    [Fact]
    public async Task OpeningAndClosingAThousandConnectionsReturnsNativeCountersToBaseline()
    {
        const int Connections = 1000;
        MeshQuicCounters baseline = Counters();
        var clock = Stopwatch.StartNew();
        using (QuicEndpoint server = QuicEndpoint.Create(ServerOptions(_ca)))
        using (QuicEndpoint client = QuicEndpoint.Create(ClientOptions(_ca.CertificatePem, _ca.IssueNode("client"))))
        {
            for (int i = 0; i < Connections; i++)
            {
                QuicConnection outbound = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
                QuicConnection inbound = await server.AcceptAsync(Timeout);
                if (i % 100 == 0)
                {
                    // Every 100th connection also carries a stream, so stream handles are counted too.
                    using QuicStream stream = outbound.OpenStream();
                    await stream.SendAsync(new byte[] { 1, 2, 3 }, finish: true);
                    using QuicStream accepted = await inbound.AcceptStreamAsync(Timeout);
                    Assert.Equal(new byte[] { 1, 2, 3 }, await ReadToEndAsync(accepted.Input, 3, Timeout));
                }

                outbound.Dispose();
                inbound.Dispose();
            }

            MeshQuicCounters during = Counters();
            output.WriteLine($"{Connections} connections in {clock.ElapsedMilliseconds} ms; counters after disposing them: {during}");
            Assert.True(
                await WaitUntilAsync(() => client.OpenConnections == 0 && server.OpenConnections == 0, TimeSpan.FromSeconds(20)),
                $"quinn still tracks {client.OpenConnections} client / {server.OpenConnections} server connections");
            Assert.Equal(0, server.CallbackFailures);
            Assert.Equal(0, client.CallbackFailures);
        }

        bool settled = await WaitUntilAsync(() => Counters().LiveCountsEqual(baseline), TimeSpan.FromSeconds(10));
        MeshQuicCounters after = Counters();
        output.WriteLine($"baseline {baseline}; after {after}; total {clock.ElapsedMilliseconds} ms");
        Assert.True(settled, $"native counters did not return to baseline: {after} vs {baseline}");
    }

    /// <summary>
    /// Connects a client the server will refuse. In TLS 1.3 the client's handshake can complete
    /// before the server has checked the client's certificate, so the refusal shows either as a
    /// failed connect or as the connection closing with the server's TLS alert.
    /// </summary>
    private async Task<QuicHandshakeException> ConnectExpectingRefusalAsync(QuicEndpoint client, QuicEndpoint server)
    {
        QuicConnection connection;
        try
        {
            connection = await client.ConnectAsync(EndPointOf(server), "localhost", Timeout);
        }
        catch (QuicHandshakeException refused)
        {
            return refused;
        }

        using (connection)
        {
            QuicTransportException closed = await connection.Closed.WaitAsync(Timeout);
            return Assert.IsType<QuicHandshakeException>(closed);
        }
    }
}
