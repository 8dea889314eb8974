using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests.Tcp;

[CollectionDefinition(nameof(TcpAllocationTests), DisableParallelization = true)]
public sealed class TcpAllocationCollection;

/// <summary>Moving bytes through an established connection allocates nothing per message: the receive and send loops
/// write into and read from pipe memory, and SslStream and sockets complete through pooled awaitables. Measured
/// process-wide (the loops run on pool threads), alone (no other test class runs meanwhile).</summary>
[Collection(nameof(TcpAllocationTests))]
public sealed class TcpAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RoundTripsThroughAnEstablishedConnectionDoNotAllocatePerMessage()
    {
        const int Warmup = 2_000;
        const int Measured = 20_000;
        using var metrics = new TransportMetrics();
        await using var server = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), metrics, NullLogger.Instance);
        await using var client = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), metrics, NullLogger.Instance);
        await using ITransportListener listener = await server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using ITransportConnection outbound = await client.ConnectAsync(listener.LocalEndPoint, timeout.Token);
        await using ITransportConnection inbound = (await listener.AcceptAsync(timeout.Token))!;
        Task echo = EchoAsync(inbound, timeout.Token);
        byte[] message = new byte[64];

        await RoundTripsAsync(outbound, message, Warmup, timeout.Token);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await RoundTripsAsync(outbound, message, Measured, timeout.Token);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        double perRoundTrip = (double)allocated / Measured;
        output.WriteLine($"{allocated} bytes allocated in {Measured} round trips of {message.Length} bytes: {perRoundTrip:0.0} B per round trip (process-wide)");
        await outbound.Output.CompleteAsync();
        await echo.WaitAsync(timeout.Token);

        // Anything allocated per message (a task, a buffer, a closure) would cost at least 24 bytes per round trip; the
        // bound leaves room for timers and the runtime's own background work over the measurement.
        Assert.True(perRoundTrip < 16, $"{perRoundTrip:0.0} bytes allocated per round trip");
    }

    private static async Task RoundTripsAsync(ITransportConnection connection, byte[] message, int count, CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            await connection.Output.WriteAsync(message, cancellationToken);
            int received = 0;
            while (received < message.Length)
            {
                ReadResult result = await connection.Input.ReadAsync(cancellationToken);
                long take = Math.Min(result.Buffer.Length, message.Length - received);
                received += (int)take;
                connection.Input.AdvanceTo(result.Buffer.GetPosition(take));
            }
        }
    }

    private static async Task EchoAsync(ITransportConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await connection.Input.ReadAsync(cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                connection.Output.Write(segment.Span);
            }

            connection.Input.AdvanceTo(result.Buffer.End);
            await connection.Output.FlushAsync(cancellationToken);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
