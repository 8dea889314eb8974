using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Xunit;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests.Tcp;

/// <summary>Who may connect over TCP: only peers whose certificate chains to the cluster CA (or is pinned), valid now,
/// speaking the same protocol version. Everyone else is refused at the handshake, logged and counted, and never
/// reaches AcceptAsync, while the listener goes on serving good peers.</summary>
public sealed class TcpSecurityTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TransportMetrics _serverMetrics = new();
    private readonly TransportMetrics _clientMetrics = new();
    private readonly RecordingLogger _serverLog = new();
    private readonly ITestOutputHelper _output;
    private TcpTransport _server = null!;
    private ITransportListener _listener = null!;

    public TcpSecurityTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public async Task InitializeAsync()
    {
        _server = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), _serverMetrics, _serverLog, new TcpTransportOptions { HandshakeTimeout = TimeSpan.FromSeconds(2) });
        _listener = await _server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _server.DisposeAsync();
        Assert.Equal(0, _server.OpenSockets);
        _serverMetrics.Dispose();
        _clientMetrics.Dispose();
    }

    [Fact]
    public async Task TrustedPeersExchangeBytesAndKnowWhoTheOtherIs()
    {
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Deadline);

        await using ITransportConnection outbound = await client.ConnectAsync(_listener.LocalEndPoint, cts.Token);
        await using ITransportConnection inbound = (await _listener.AcceptAsync(cts.Token))!;

        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeA), outbound.Peer.Thumbprint);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeB), inbound.Peer.Thumbprint);
        await outbound.Output.WriteAsync(Encoding.ASCII.GetBytes("ping"), cts.Token);
        Assert.Equal("ping", await ReadAsync(inbound.Input, 4, cts.Token));
        await inbound.Output.WriteAsync(Encoding.ASCII.GetBytes("pong"), cts.Token);
        Assert.Equal("pong", await ReadAsync(outbound.Input, 4, cts.Token));
        Assert.Equal(0, _serverMetrics.HandshakeFailures);
    }

    [Fact]
    public async Task PeerWithoutCertificateIsRefused()
    {
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.NodeB), new TcpTransportOptions { PresentClientCertificate = false });

        await AssertRefusedAsync(client, "no_certificate");
    }

    [Fact]
    public async Task PeerWithCertificateFromAnotherCaIsRefused()
    {
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.OtherCaNode));

        await AssertRefusedAsync(client, "untrusted_certificate");
    }

    [Fact]
    public async Task PeerWithExpiredCertificateIsRefused()
    {
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.ExpiredNode));

        await AssertRefusedAsync(client, "expired_certificate");
    }

    [Fact]
    public async Task PeerOfferingAnotherProtocolVersionIsRefusedWithBothVersionsNamed()
    {
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.NodeB), new TcpTransportOptions { ApplicationProtocol = "mesh/2" });

        TransportException error = await AssertRefusedAsync(client, "protocol_version");

        Assert.Contains("mesh/2", error.Message, StringComparison.Ordinal);
        string logged = Assert.Single(_serverLog.Entries, static e => e.Id.Id == 300).Message;
        Assert.Contains("mesh/2", logged, StringComparison.Ordinal);
        Assert.Contains("mesh/1", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientRefusesServerWithCertificateFromAnotherCa()
    {
        await using var rogue = new TcpTransport(TestCertificates.Credentials(TestCertificates.OtherCaNode, [TestCertificates.ClusterCa, TestCertificates.OtherCa]), new TransportMetrics(), new RecordingLogger());
        await using ITransportListener rogueListener = await rogue.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Deadline);

        var error = await Assert.ThrowsAsync<TransportException>(async () => await client.ConnectAsync(rogueListener.LocalEndPoint, cts.Token));

        _output.WriteLine("client: " + error.Message);
        Assert.Contains("is not trusted", error.Message, StringComparison.Ordinal);
        Assert.Contains("mesh-test-other-node", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _clientMetrics.HandshakeFailures);
        Assert.Equal(0, client.OpenSockets);
    }

    [Fact]
    public async Task PinnedThumbprintIsAcceptedWithoutAnyCa()
    {
        string serverThumbprint = TransportCredentials.ThumbprintOf(TestCertificates.NodeA);
        string clientThumbprint = TransportCredentials.ThumbprintOf(TestCertificates.OtherCaNode);
        await using var server = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA, [], clientThumbprint), new TransportMetrics(), new RecordingLogger());
        await using ITransportListener listener = await server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        await using TcpTransport client = Client(TestCertificates.Credentials(TestCertificates.OtherCaNode, [], serverThumbprint));
        using var cts = new CancellationTokenSource(Deadline);

        await using ITransportConnection outbound = await client.ConnectAsync(listener.LocalEndPoint, cts.Token);
        await using ITransportConnection inbound = (await listener.AcceptAsync(cts.Token))!;

        Assert.Equal(clientThumbprint, inbound.Peer.Thumbprint);
        Assert.Equal(serverThumbprint, outbound.Peer.Thumbprint);
    }

    [Fact]
    public async Task PeerThatSendsNothingIsDroppedAfterTheHandshakeTimeout()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(Deadline);
        await silent.ConnectAsync(_listener.LocalEndPoint, cts.Token);

        int read = await silent.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token);

        Assert.Equal(0, read);
        Assert.True(await Eventually.TrueAsync(() => _serverMetrics.HandshakeFailures == 1));
        Assert.Contains(_serverLog.Entries, static e => e.Id.Id == 300 && e.Message.Contains("handshake_timeout", StringComparison.Ordinal));
        await AssertGoodPeerIsAcceptedNextAsync(cts.Token);
    }

    [Fact]
    public async Task PeerThatDoesNotSpeakTlsIsRefused()
    {
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(Deadline);
        await plain.ConnectAsync(_listener.LocalEndPoint, cts.Token);

        await plain.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), SocketFlags.None, cts.Token);

        Assert.True(await Eventually.TrueAsync(() => _serverMetrics.HandshakeFailures == 1));
        Assert.Contains(_serverLog.Entries, static e => e.Id.Id == 300 && e.Message.Contains("not_tls", StringComparison.Ordinal));
        await AssertGoodPeerIsAcceptedNextAsync(cts.Token);
    }

    private TcpTransport Client(TransportCredentials credentials, TcpTransportOptions? options = null)
        => new(credentials, _clientMetrics, new RecordingLogger(), options);

    private async Task<TransportException> AssertRefusedAsync(TcpTransport client, string kind)
    {
        using var cts = new CancellationTokenSource(Deadline);

        // The client learns of the refusal from ConnectAsync, with a reason.
        var error = await Assert.ThrowsAsync<TransportException>(async () => await client.ConnectAsync(_listener.LocalEndPoint, cts.Token));
        _output.WriteLine("client: " + error.Message);
        Assert.Contains(_listener.LocalEndPoint.ToString()!, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _clientMetrics.HandshakeFailures);
        Assert.Equal(0, client.OpenSockets);

        // The server counts and logs it once, with the reason and the remote address.
        Assert.True(await Eventually.TrueAsync(() => _serverMetrics.HandshakeFailures == 1), "the server did not count the refusal");
        var logged = Assert.Single(_serverLog.Entries, static e => e.Id.Id == 300);
        _output.WriteLine("server: " + logged.Message);
        Assert.Contains($"({kind})", logged.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:", logged.Message, StringComparison.Ordinal);

        // ...and the refused peer never shows up: the next accepted connection is a good one.
        await AssertGoodPeerIsAcceptedNextAsync(cts.Token);
        Assert.Equal(1, _serverMetrics.HandshakeFailures);
        return error;
    }

    private async Task AssertGoodPeerIsAcceptedNextAsync(CancellationToken cancellationToken)
    {
        await using var good = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), new TransportMetrics(), new RecordingLogger());
        await using ITransportConnection outbound = await good.ConnectAsync(_listener.LocalEndPoint, cancellationToken);
        await using ITransportConnection inbound = (await _listener.AcceptAsync(cancellationToken))!;
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeB), inbound.Peer.Thumbprint);
        Assert.Equal(((TcpConnection)outbound).LocalEndPoint, inbound.RemoteEndPoint);
    }

    private static async Task<string> ReadAsync(PipeReader reader, int length, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken);
            if (result.Buffer.Length >= length)
            {
                string text = Encoding.ASCII.GetString(result.Buffer.Slice(0, length));
                reader.AdvanceTo(result.Buffer.GetPosition(length));
                return text;
            }

            Assert.False(result.IsCompleted, "the stream ended early");
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
