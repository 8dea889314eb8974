using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Tests.Conformance;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests;

public sealed class ReassemblyTests
{
    private const int PauseThreshold = 64 * 1024;

    [Fact]
    public async Task A_large_frame_arriving_in_pieces_is_reassembled_intact()
    {
        // The request arrives in 8 KiB pieces through a pipe that pauses its writer at 64 KiB, as from a socket, so the
        // read loop copies it out of the pipe piece by piece (FramedConnectionOptions.ReassemblyThreshold) instead of
        // decoding it in place; the echo proves the pieces were put together in order.
        var network = new InMemoryNetwork();
        using var metrics = new TransportMetrics();
        var options = new FramedConnectionOptions { ReassemblyThreshold = 16 * 1024 };
        await using FramedNode server = await FramedNode.StartAsync(new InMemoryTransport("server", network, PauseThreshold), new IPEndPoint(IPAddress.Loopback, 0), EchoHandler.Instance, options, metrics, NullLogger.Instance);
        await using ITransportConnection client = await new InMemoryTransport("client", network, PauseThreshold).ConnectAsync(server.EndPoint, CancellationToken.None);
        byte[] payload = TransportConformanceTests.Pattern(1024 * 1024);
        byte[] frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(FrameKind.Request, 9, payload.Length).Write(frame);
        payload.CopyTo(frame, FrameHeader.Size);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        for (int offset = 0; offset < frame.Length; offset += 8192)
        {
            await client.Output.WriteAsync(frame.AsMemory(offset, Math.Min(8192, frame.Length - offset)), timeout.Token);
        }

        while (true)
        {
            ReadResult result = await client.Input.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (FrameDecoder.TryRead(ref buffer, options.MaxFrameSize, out FrameHeader header, out ReadOnlySequence<byte> echo))
            {
                Assert.Equal((FrameKind.Response, 9UL), (header.Kind, header.CorrelationId));
                Assert.True(echo.ToArray().AsSpan().SequenceEqual(payload), "The echo differs from the request.");
                client.Input.AdvanceTo(buffer.Start);
                return;
            }

            Assert.False(result.IsCompleted, "The connection ended without a response.");
            client.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
