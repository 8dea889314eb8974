using System.Net;
using System.Net.Sockets;
using Mesh.Messaging;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Tests.Security;
using Mesh.Transport.Tcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Cluster;

/// <summary>A peer that takes the connection but never answers the TLS handshake (a hung process, a black hole): which
/// time limit ran out decides what the caller learns.</summary>
public sealed class ConnectTimeoutTests : IDisposable
{
    private readonly Socket _silent = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly TransportMetrics _metrics = new();

    public ConnectTimeoutTests()
    {
        // The kernel completes TCP connections into the backlog; nothing ever reads or answers them.
        _silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _silent.Listen();
    }

    private string Endpoint => HostPort.Format((IPEndPoint)_silent.LocalEndPoint!);

    [Fact]
    public async Task An_attempt_that_outlives_its_own_limit_while_the_caller_has_time_is_reported_as_unsent()
    {
        await using TcpTransport transport = new(TestCertificates.Credentials(TestCertificates.NodeA), _metrics, NullLogger.Instance);
        await using PeerConnections peers = Create(transport, connectTimeout: TimeSpan.FromMilliseconds(300));

        // Nothing was sent, so the caller may route the call again (RoutedActorReference retries it).
        await Assert.ThrowsAsync<PeerUnreachableException>(() => RequestAsync(peers, TimeSpan.FromSeconds(20))).Within(10);
    }

    [Fact]
    public async Task The_callers_own_time_running_out_during_the_attempt_is_a_timeout()
    {
        await using TcpTransport transport = new(TestCertificates.Credentials(TestCertificates.NodeA), _metrics, NullLogger.Instance);
        await using PeerConnections peers = Create(transport, connectTimeout: TimeSpan.FromSeconds(20));

        await Assert.ThrowsAsync<TimeoutException>(() => RequestAsync(peers, TimeSpan.FromMilliseconds(300))).Within(10);
    }

    public void Dispose()
    {
        _silent.Dispose();
        _metrics.Dispose();
    }

    private PeerConnections Create(ITransport transport, TimeSpan connectTimeout) =>
        new(transport, new FramedConnectionOptions(), new PeerConnectionsOptions { ConnectTimeout = connectTimeout }, _metrics, NullLogger.Instance);

    private async Task RequestAsync(PeerConnections peers, TimeSpan timeout)
    {
        using FramePayload answer = await peers.RequestAsync(Endpoint, ClusterService.Stats, ReadOnlyMemory<byte>.Empty, timeout, CancellationToken.None);
    }
}
