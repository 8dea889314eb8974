using System.Net;
using System.Text;
using Mesh.Transport.Quic;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Quic;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests.Security;

/// <summary>
/// Node certificates issued by an intermediate CA under the cluster CA, on TCP and QUIC alike: the node sends its leaf
/// and the intermediate, and a peer that trusts only the cluster CA builds the chain from them, as a server and as a
/// client. Without the intermediate on the wire, and for a leaf of another CA, the handshake is refused.
/// </summary>
public sealed class IntermediateChainTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Transports => new() { TcpTransport.TransportName, QuicTransport.TransportName };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_whose_certificate_comes_from_an_intermediate_ca_is_accepted(string transport)
    {
        await using var nodes = new Nodes(transport, TestCertificates.Credentials(TestCertificates.NodeA), TestCertificates.IntermediateCredentials());

        (ITransportConnection outbound, ITransportConnection inbound) = await nodes.ConnectAsync();
        await using (outbound)
        await using (inbound)
        {
            Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.IntermediateNode), inbound.Peer.Thumbprint);
            Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeA), outbound.Peer.Thumbprint);
            await AssertBytesFlowAsync(outbound, inbound);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_server_whose_certificate_comes_from_an_intermediate_ca_is_accepted(string transport)
    {
        await using var nodes = new Nodes(transport, TestCertificates.IntermediateCredentials(), TestCertificates.Credentials(TestCertificates.NodeB));

        (ITransportConnection outbound, ITransportConnection inbound) = await nodes.ConnectAsync();
        await using (outbound)
        await using (inbound)
        {
            Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.IntermediateNode), outbound.Peer.Thumbprint);
            Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeB), inbound.Peer.Thumbprint);
            await AssertBytesFlowAsync(outbound, inbound);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_leaf_of_an_intermediate_ca_sent_without_the_intermediate_is_refused(string transport)
    {
        await using var nodes = new Nodes(transport, TestCertificates.Credentials(TestCertificates.NodeA), TestCertificates.IntermediateCredentials(sendIntermediate: false));

        await nodes.AssertRefusedAsync();
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_leaf_of_another_ca_is_refused_by_a_node_with_an_intermediate_chain(string transport)
    {
        await using var nodes = new Nodes(transport, TestCertificates.IntermediateCredentials(), TestCertificates.Credentials(TestCertificates.OtherCaNode));

        await nodes.AssertRefusedAsync();
    }

    private static async Task AssertBytesFlowAsync(ITransportConnection outbound, ITransportConnection inbound)
    {
        using var cts = new CancellationTokenSource(Deadline);
        await outbound.Output.WriteAsync(Encoding.ASCII.GetBytes("ping"), cts.Token);
        System.IO.Pipelines.ReadResult read = await inbound.Input.ReadAtLeastAsync(4, cts.Token);
        Assert.Equal("ping", Encoding.ASCII.GetString(read.Buffer.Slice(0, 4)));
        inbound.Input.AdvanceTo(read.Buffer.GetPosition(4));
    }

    /// <summary>A listening server and a client of one transport kind, each with its own credentials and metrics.</summary>
    private sealed class Nodes : IAsyncDisposable
    {
        private readonly ITransport _server;
        private readonly ITransport _client;
        private readonly TransportMetrics _serverMetrics = new();
        private readonly TransportMetrics _clientMetrics = new();
        private ITransportListener? _listener;

        public Nodes(string transport, TransportCredentials server, TransportCredentials client)
        {
            _server = Create(transport, server, _serverMetrics);
            _client = Create(transport, client, _clientMetrics);
        }

        public async Task<(ITransportConnection Outbound, ITransportConnection Inbound)> ConnectAsync()
        {
            using var cts = new CancellationTokenSource(Deadline);
            _listener = await _server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), cts.Token);
            ITransportConnection outbound = await _client.ConnectAsync(_listener.LocalEndPoint, cts.Token);
            ITransportConnection inbound = (await _listener.AcceptAsync(cts.Token))!;
            return (outbound, inbound);
        }

        /// <summary>Connecting fails with a <see cref="TransportException"/>, no connection is accepted, and the
        /// refusal is counted by the side that refused.</summary>
        public async Task AssertRefusedAsync()
        {
            using var cts = new CancellationTokenSource(Deadline);
            _listener = await _server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), cts.Token);
            await Assert.ThrowsAsync<TransportException>(async () =>
            {
                await using ITransportConnection connection = await _client.ConnectAsync(_listener.LocalEndPoint, cts.Token);
            });

            Assert.True(
                await QuicTestNode.EventuallyAsync(() => _serverMetrics.HandshakeFailures + _clientMetrics.HandshakeFailures > 0, Deadline),
                "the refusal was not counted");
            using var shortWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await _listener.AcceptAsync(shortWait.Token));
        }

        public async ValueTask DisposeAsync()
        {
            if (_listener is not null)
            {
                await _listener.DisposeAsync();
            }

            await _client.DisposeAsync();
            await _server.DisposeAsync();
            _serverMetrics.Dispose();
            _clientMetrics.Dispose();
        }

        private static ITransport Create(string transport, TransportCredentials credentials, TransportMetrics metrics)
            => transport == QuicTransport.TransportName
                ? new QuicTransport(credentials, metrics, NullLogger.Instance, QuicTestNode.TestOptions())
                : new TcpTransport(credentials, metrics, NullLogger.Instance, new TcpTransportOptions { HandshakeTimeout = TimeSpan.FromSeconds(5) });
    }
}
