using System.IO.Pipelines;
using Mesh.Transport.Tests.Security;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests.Quic;

/// <summary>
/// Moving bytes through an established QUIC stream allocates nothing per message, even with hundreds of kilobytes in
/// flight: the native library pushes received bytes into the input pipe as fast as QUIC delivers them, and the send
/// loop's pipe fills while a batch is being copied, so both pipes hold many blocks at once, which must come back from
/// <see cref="QuicBufferPool"/> rather than be new arrays. Measured process-wide (the loops run on pool and native
/// threads), alone (the allocation collection runs no other test class meanwhile).
/// </summary>
[Collection(nameof(AllocationTests))]
public sealed class QuicAllocationTests(ITestOutputHelper output)
{
    private const int MessageSize = 1024;

    /// <summary>Messages written before the first is read back: 256 KiB in flight, 64 pipe blocks per direction.</summary>
    private const int Burst = 256;

    [Fact]
    public async Task Bursts_of_a_quarter_megabyte_through_an_established_stream_do_not_allocate_per_message()
    {
        const int WarmupBursts = 20;
        const int Batches = 8;
        const int BurstsPerBatch = 16;
        await using QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
        await using var client = new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await using ITransportConnection outbound = await client.Transport.ConnectAsync(server.EndPoint, timeout.Token);
        await using ITransportConnection inbound = (await server.Listener!.AcceptAsync(timeout.Token))!;
        Task echo = AllocationMeter.EchoAsync(inbound, timeout.Token);
        byte[] message = new byte[MessageSize];
        await BurstsAsync(outbound, message, WarmupBursts, timeout.Token);

        double least = await AllocationMeter.LeastBytesPerItemAsync(
            () => BurstsAsync(outbound, message, BurstsPerBatch, timeout.Token), Batches, BurstsPerBatch * Burst, $"{MessageSize}-byte message echoed", output);

        await outbound.Output.CompleteAsync();
        await echo.WaitAsync(timeout.Token);

        // A pipe segment taken from outside the pool is a 4 KiB array per four messages, about 1 KiB per message; the
        // smallest object (a task, a closure) is 24 bytes. 64 bytes leaves room for the runtime's own noise.
        Assert.True(least < 64, $"{least:0.00} bytes allocated per message in the best of {Batches} batches");
    }

    private static async Task BurstsAsync(ITransportConnection connection, byte[] message, int bursts, CancellationToken cancellationToken)
    {
        for (int b = 0; b < bursts; b++)
        {
            for (int i = 0; i < Burst; i++)
            {
                await connection.Output.WriteAsync(message, cancellationToken);
            }

            long expected = (long)Burst * message.Length;
            long received = 0;
            // Every read returns at least one byte, so this many reads always suffice.
            for (long reads = 0; received < expected && reads < expected; reads++)
            {
                ReadResult result = await connection.Input.ReadAsync(cancellationToken);
                long take = Math.Min(result.Buffer.Length, expected - received);
                received += take;
                connection.Input.AdvanceTo(result.Buffer.GetPosition(take));
                Assert.False(result.IsCompleted && received < expected, "The echo ended early.");
            }
        }
    }
}
