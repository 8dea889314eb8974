using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Mesh.Transport.Quic;
using Mesh.Transport.Tests.Security;
using Xunit;

namespace Mesh.Transport.Tests.Quic;

public sealed class QuicTransportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task BytesWrittenOnOneSideAreReadInOrderOnTheOtherAndTheEndIsSeen()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);

        await using ITransportConnection outbound = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await using ITransportConnection inbound = (await server.Listener!.AcceptAsync(cts.Token))!;

        // Many small writes, flushed one by one: they may be coalesced, never reordered.
        for (int i = 0; i < 1000; i++)
        {
            outbound.Output.Write(Encoding.ASCII.GetBytes($"{i:D4}"));
            await outbound.Output.FlushAsync(cts.Token);
        }

        await outbound.Output.CompleteAsync();
        byte[] received = await ReadToEndAsync(inbound.Input, 4000, cts.Token);

        var expected = new StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            expected.Append($"{i:D4}");
        }

        Assert.Equal(expected.ToString(), Encoding.ASCII.GetString(received));
        Assert.Equal("CN=mesh-test-node-b", inbound.Peer.Subject);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeB), inbound.Peer.Thumbprint);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.NodeA), outbound.Peer.Thumbprint);
    }

    [Fact]
    public async Task EveryAcceptedStreamReportsTheUdpAddressItsConnectionComesFrom()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);

        await using ITransportConnection first = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await using ITransportConnection second = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await using ITransportConnection firstInbound = (await server.Listener!.AcceptAsync(cts.Token))!;
        await using ITransportConnection secondInbound = (await server.Listener!.AcceptAsync(cts.Token))!;

        var expected = new IPEndPoint(IPAddress.Loopback, client.Transport.IPv4ClientPort!.Value);
        Assert.Equal(expected, firstInbound.RemoteEndPoint);
        Assert.Equal(expected, secondInbound.RemoteEndPoint);
        Assert.Equal(server.EndPoint, first.RemoteEndPoint);
    }

    [Fact]
    public async Task AStreamIsAcceptedBeforeItCarriesAnyData()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);

        await using ITransportConnection outbound = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await using ITransportConnection? inbound = await server.Listener!.AcceptAsync(cts.Token);

        Assert.NotNull(inbound);
        // The other direction works first as well.
        await inbound.Output.WriteAsync("pong"u8.ToArray(), cts.Token);
        ReadResult read = await outbound.Input.ReadAsync(cts.Token);
        Assert.Equal("pong", Encoding.ASCII.GetString(read.Buffer.Slice(0, Math.Min(4, read.Buffer.Length))));
    }

    [Fact]
    public async Task ConcurrentStreamsToOneNodeShareItsConnectionAndStayApart()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);
        const int Streams = 8;

        var outbound = new ITransportConnection[Streams];
        for (int i = 0; i < Streams; i++)
        {
            outbound[i] = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
            await outbound[i].Output.WriteAsync(new byte[] { (byte)i }, cts.Token);
        }

        var seen = new HashSet<byte>();
        var inbound = new List<ITransportConnection>();
        try
        {
            for (int i = 0; i < Streams; i++)
            {
                ITransportConnection accepted = (await server.Listener!.AcceptAsync(cts.Token))!;
                inbound.Add(accepted);
                ReadResult read = await accepted.Input.ReadAsync(cts.Token);
                seen.Add(read.Buffer.FirstSpan[0]);
                accepted.Input.AdvanceTo(read.Buffer.GetPosition(1));
            }

            Assert.Equal(Streams, seen.Count);
            // One QUIC connection carries them all: the server saw one handshake.
            Assert.Equal(1UL, ((QuicTransportListener)server.Listener!).OpenConnections);
        }
        finally
        {
            foreach (ITransportConnection c in outbound)
            {
                await c.DisposeAsync();
            }

            foreach (ITransportConnection c in inbound)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AbortEndsThePeersReadWithATransportException()
    {
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);

        await using ITransportConnection outbound = await client.Transport.ConnectAsync(server.EndPoint, cts.Token);
        await using ITransportConnection inbound = (await server.Listener!.AcceptAsync(cts.Token))!;
        outbound.Abort("test");

        await Assert.ThrowsAsync<TransportException>(() => ReadToEndAsync(inbound.Input, 1024, cts.Token));
    }

    [Fact]
    public async Task AConnectionClosedByThePeerIsReplacedByTheNextConnect()
    {
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var cts = new CancellationTokenSource(Timeout);
        System.Net.EndPoint endPoint;
        ITransportConnection stream;
        await using (QuicTestNode first = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync())
        {
            endPoint = first.EndPoint;
            stream = await client.Transport.ConnectAsync(endPoint, cts.Token);
            await using ITransportConnection? accepted = await first.Listener!.AcceptAsync(cts.Token);
            Assert.NotNull(accepted);
        }

        // Same address, new server process: the client's old connection was closed by the server's endpoint. The client
        // learns of it asynchronously, and a connect before that may still open its stream on the closing connection
        // (which then fails); once the old stream has seen the end, the next connect must make a new connection.
        await using (stream)
        {
            await SeeEndAsync(stream.Input, cts.Token);
        }

        await using var second = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA));
        await using ITransportListener listener = await ListenEventuallyAsync(second, endPoint, cts.Token);
        await using ITransportConnection again = await ConnectEventuallyAsync(client, endPoint, cts.Token);
        await using ITransportConnection? inbound = await listener.AcceptAsync(cts.Token);
        Assert.NotNull(inbound);
    }

    private static async Task<ITransportListener> ListenEventuallyAsync(QuicTestNode node, System.Net.EndPoint endPoint, CancellationToken cancellationToken)
    {
        // The closed endpoint's background task releases the UDP port shortly after the endpoint is freed.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await node.Transport.ListenAsync(endPoint, cancellationToken);
            }
            catch (TransportException) when (attempt < 100)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Reads until the stream ends, normally or with the transport's error.</summary>
    private static async Task SeeEndAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            await ReadToEndAsync(reader, 1024, cancellationToken);
        }
        catch (TransportException)
        {
        }
    }

    private static async Task<ITransportConnection> ConnectEventuallyAsync(QuicTestNode client, System.Net.EndPoint endPoint, CancellationToken cancellationToken)
    {
        // The client learns of the close asynchronously; the first connect may still pick the closing connection and
        // retries once by itself, so two attempts are plenty.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await client.Transport.ConnectAsync(endPoint, cancellationToken);
            }
            catch (TransportException) when (attempt < 2)
            {
            }
        }
    }

    internal static async Task<byte[]> ReadToEndAsync(PipeReader reader, int maxBytes, CancellationToken cancellationToken)
    {
        var received = new ArrayBufferWriter<byte>();
        for (int reads = 0; reads <= maxBytes + 1; reads++)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (received.WrittenCount > maxBytes)
            {
                throw new InvalidOperationException($"Received more than {maxBytes} bytes.");
            }

            if (result.IsCompleted)
            {
                return received.WrittenSpan.ToArray();
            }
        }

        throw new InvalidOperationException("The stream did not end.");
    }
}
