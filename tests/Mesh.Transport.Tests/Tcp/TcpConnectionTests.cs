using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Xunit;

namespace Mesh.Transport.Tests.Tcp;

/// <summary>The life of an accepted TCP connection: graceful end, abort, a vanished peer, and sockets released once.</summary>
public sealed class TcpConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TransportMetrics _metrics = new();
    private readonly CancellationTokenSource _timeout = new(Deadline);
    private TcpTransport _server = null!;
    private TcpTransport _client = null!;
    private ITransportListener _listener = null!;

    public async Task InitializeAsync()
    {
        _server = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), _metrics, new RecordingLogger());
        _client = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), _metrics, new RecordingLogger());
        _listener = await _server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        Assert.Equal(0, _server.OpenSockets);
        Assert.Equal(0, _client.OpenSockets);
        _metrics.Dispose();
        _timeout.Dispose();
    }

    [Fact]
    public async Task CompletingOutputDeliversEverythingThenTheEnd()
    {
        // More than the pipes' pause threshold, so backpressure holds the writer back on the way.
        byte[] sent = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        (ITransportConnection outbound, ITransportConnection inbound) = await ConnectAsync();
        await using (outbound)
        await using (inbound)
        {
            Task writing = WriteInChunksAsync(outbound.Output, sent);
            byte[] received = await ReadToEndAsync(inbound.Input);
            await writing;

            Assert.Equal(SHA256.HashData(sent), SHA256.HashData(received));
            Assert.Equal(sent.Length, received.Length);

            // The other direction is still open after our half-close.
            await inbound.Output.WriteAsync(new byte[] { 42 }, _timeout.Token);
            ReadResult reply = await outbound.Input.ReadAsync(_timeout.Token);
            Assert.Equal(42, reply.Buffer.FirstSpan[0]);
            outbound.Input.AdvanceTo(reply.Buffer.End);
        }

        Assert.Equal(0, _metrics.Errors);
    }

    [Fact]
    public async Task AbortEndsBothSidesWithAnErrorAndReleasesTheSocketOnce()
    {
        (ITransportConnection outbound, ITransportConnection inbound) = await ConnectAsync();
        await using (inbound)
        {
            outbound.Abort("test abort");
            outbound.Abort("second abort is ignored");

            var local = await Assert.ThrowsAsync<TransportException>(async () => await outbound.Input.ReadAsync(_timeout.Token));
            Assert.Contains("test abort", local.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<TransportException>(async () => await ReadToEndAsync(inbound.Input));

            await outbound.DisposeAsync();
            await outbound.DisposeAsync();
            Assert.Equal(0, _client.OpenSockets);
        }

        Assert.Equal(0, _server.OpenSockets);
    }

    [Fact]
    public async Task DisposeReleasesEverySocketExactlyOnce()
    {
        var connections = new List<ITransportConnection>();
        for (int i = 0; i < 3; i++)
        {
            (ITransportConnection outbound, ITransportConnection inbound) = await ConnectAsync();
            connections.Add(outbound);
            connections.Add(inbound);
        }

        Assert.Equal(3, _client.OpenSockets);
        Assert.Equal(3, _server.OpenSockets);
        foreach (ITransportConnection connection in connections)
        {
            await connection.DisposeAsync();
            await connection.DisposeAsync();
            connection.Abort("after dispose");
        }

        Assert.Equal(0, _client.OpenSockets);
        Assert.Equal(0, _server.OpenSockets);
    }

    [Fact]
    public async Task PeerWhoseSocketVanishesEndsReadsPromptly()
    {
        // What a killed process leaves behind: the kernel closes its socket, with no TLS close_notify.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_listener.LocalEndPoint, _timeout.Token);
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await ssl.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = string.Empty,
                EnabledSslProtocols = SslProtocols.Tls13,
                ApplicationProtocols = [new SslApplicationProtocol(TransportCredentials.ApplicationProtocol)],
                ClientCertificateContext = SslStreamCertificateContext.Create(TestCertificates.NodeB, null, offline: true),
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = static (_, _, _, _) => true,
            },
            _timeout.Token);
        Assert.Equal(1, await ssl.ReadAsync(new byte[1], _timeout.Token));
        await using ITransportConnection inbound = (await _listener.AcceptAsync(_timeout.Token))!;

        socket.Close();

        // A clean end or an error both tell the framing layer the peer is gone; what matters is that the read ends.
        try
        {
            await ReadToEndAsync(inbound.Input);
        }
        catch (TransportException)
        {
        }

        ssl.Dispose();
    }

    [Fact]
    public async Task DisposedListenerReturnsNullAndClosesUnclaimedConnections()
    {
        await using ITransportConnection outbound = await _client.ConnectAsync(_listener.LocalEndPoint, _timeout.Token);
        Assert.True(await Eventually.TrueAsync(() => _server.OpenSockets == 1));

        await _listener.DisposeAsync();

        Assert.Null(await _listener.AcceptAsync(_timeout.Token));
        Assert.Equal(0, _server.OpenSockets);
        Assert.Empty(await ReadToEndAsync(outbound.Input)); // closed gracefully: the client's reads end
    }

    [Fact]
    public async Task ConnectingWhereNobodyListensThrowsATransportException()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint closed = probe.LocalEndPoint!; // bound but not listening: connections are refused

        var error = await Assert.ThrowsAsync<TransportException>(async () => await _client.ConnectAsync(closed, _timeout.Token));

        Assert.Contains("Cannot reach", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _client.OpenSockets);
    }

    private async Task<(ITransportConnection Outbound, ITransportConnection Inbound)> ConnectAsync()
    {
        ITransportConnection outbound = await _client.ConnectAsync(_listener.LocalEndPoint, _timeout.Token);
        ITransportConnection inbound = (await _listener.AcceptAsync(_timeout.Token))!;
        return (outbound, inbound);
    }

    private async Task WriteInChunksAsync(PipeWriter writer, byte[] data)
    {
        const int Chunk = 7000; // not a multiple of any buffer size
        for (int offset = 0; offset < data.Length; offset += Chunk)
        {
            FlushResult result = await writer.WriteAsync(data.AsMemory(offset, Math.Min(Chunk, data.Length - offset)), _timeout.Token);
            Assert.False(result.IsCompleted);
        }

        await writer.CompleteAsync();
    }

    private async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await reader.ReadAsync(_timeout.Token);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return received.WrittenSpan.ToArray();
            }
        }
    }
}
