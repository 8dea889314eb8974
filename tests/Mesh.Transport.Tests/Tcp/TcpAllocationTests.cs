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
        const int Batches = 10;
        const int PerBatch = 4_000;
        using var metrics = new TransportMetrics();
        await using var server = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), metrics, NullLogger.Instance);
        await using var client = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), metrics, NullLogger.Instance);
        await using ITransportListener listener = await server.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using ITransportConnection outbound = await client.ConnectAsync(listener.LocalEndPoint, timeout.Token);
        await using ITransportConnection inbound = (await listener.AcceptAsync(timeout.Token))!;
        Task echo = AllocationMeter.EchoAsync(inbound, timeout.Token);
        byte[] message = new byte[64];
        await RoundTripsAsync(outbound, message, Warmup, timeout.Token);

        double least = await AllocationMeter.LeastBytesPerItemAsync(
            () => RoundTripsAsync(outbound, message, PerBatch, timeout.Token), Batches, PerBatch, $"round trip of {message.Length} bytes", output);

        await outbound.Output.CompleteAsync();
        await echo.WaitAsync(timeout.Token);

        // Anything allocated per message (a task, a buffer, a closure) costs at least 24 bytes per round trip.
        Assert.True(least < 4, $"{least:0.00} bytes allocated per round trip in the best of {Batches} batches");
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
}
