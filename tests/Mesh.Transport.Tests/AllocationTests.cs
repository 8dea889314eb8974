using System.Net;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Mesh.Transport.Tests.Conformance;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>Runs alone, so the process-wide allocation figure is not someone else's.</summary>
[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationCollection;

[Collection(nameof(AllocationTests))]
public sealed class AllocationTests(ITestOutputHelper output)
{
    private const int Warmup = 2_000;
    private const int Calls = 20_000;

    [Fact]
    public async Task A_warm_request_response_round_trip_allocates_nothing_per_call()
    {
        var network = new InMemoryNetwork();
        using var metrics = new TransportMetrics();
        var options = new FramedConnectionOptions();
        await using FramedNode server = await FramedNode.StartAsync(new InMemoryTransport("server", network), new IPEndPoint(IPAddress.Loopback, 0), EchoHandler.Instance, options, metrics, NullLogger.Instance);
        ITransportConnection transport = await new InMemoryTransport("client", network).ConnectAsync(server.EndPoint, CancellationToken.None);
        await using var client = new FramedConnection(transport, "memory", null, options, metrics, NullLogger.Instance);
        client.Start();
        byte[] payload = new byte[64];

        RoundTrips(client, payload, Warmup);
        long threadBefore = GC.GetAllocatedBytesForCurrentThread();
        long processBefore = GC.GetTotalAllocatedBytes(precise: true);
        RoundTrips(client, payload, Calls);
        long process = GC.GetTotalAllocatedBytes(precise: true) - processBefore;
        long thread = GC.GetAllocatedBytesForCurrentThread() - threadBefore;

        output.WriteLine($"{Calls} round trips: {thread} bytes on the calling thread ({(double)thread / Calls:F2} per call), {process} bytes in the whole process ({(double)process / Calls:F2} per call, both loops and both ends included).");

        // The caller's side (copy into a pooled frame, queue, pooled completion, pooled response array) allocates nothing.
        Assert.True(thread < Calls / 10, $"{thread} bytes allocated on the calling thread for {Calls} calls.");

        // Across the process (read and write loops of both ends, the handler, the pipes, but also the test runner's own
        // threads, which is why this is not zero: 0.04 to 8 bytes per call were seen) the average stays below 24 bytes
        // per call. The smallest object is 24 bytes, so an allocation made once per call, on any thread, fails this.
        Assert.True(process < Calls * 24L, $"{process} bytes allocated in the process for {Calls} calls.");
    }

    [Fact]
    public async Task Hundreds_of_requests_in_flight_on_one_connection_allocate_nothing_per_request()
    {
        // 8 senders with 64 requests of 1 KiB each in flight over TCP: up to 512 request frames queued and 512 response
        // payloads held at once, far more than ArrayPool<byte>.Shared keeps per size (which cost about 1 KB per
        // request before the framing layer kept its own frames and payload arrays).
        const int Senders = 8;
        const int InFlight = 64;
        const int RoundsPerBatch = 20;
        const int Batches = 5;
        using var metrics = new TransportMetrics();
        var options = new FramedConnectionOptions();
        await using FramedNode server = await FramedNode.StartAsync(new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), metrics, NullLogger.Instance), new IPEndPoint(IPAddress.Loopback, 0), EchoHandler.Instance, options, metrics, NullLogger.Instance);
        await using var clientTransport = new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), metrics, NullLogger.Instance);
        ITransportConnection transport = await clientTransport.ConnectAsync(server.EndPoint, CancellationToken.None);
        await using var client = new FramedConnection(transport, "tcp", null, options, metrics, NullLogger.Instance);
        client.Start();
        byte[] payload = new byte[1024];
        Task Batch() => Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(() => SendWindowsAsync(client, payload, InFlight, RoundsPerBatch)))).WaitAsync(TimeSpan.FromSeconds(60));
        await Batch();

        double least = await AllocationMeter.LeastBytesPerItemAsync(Batch, Batches, Senders * InFlight * RoundsPerBatch, $"request of {payload.Length} bytes, {Senders} x {InFlight} in flight", output);

        // An allocation made once per request, on any thread, costs at least 24 bytes.
        Assert.True(least < 24, $"{least:0.00} bytes allocated per request in the best of {Batches} batches");
    }

    /// <summary>Sends <paramref name="rounds"/> windows of <paramref name="inFlight"/> requests, each window all at once.</summary>
    private static async Task SendWindowsAsync(FramedConnection client, byte[] payload, int inFlight, int rounds)
    {
        var window = new ValueTask<FramePayload>[inFlight];
        for (int round = 0; round < rounds; round++)
        {
            for (int i = 0; i < window.Length; i++)
            {
                window[i] = client.RequestAsync(payload);
            }

            for (int i = 0; i < window.Length; i++)
            {
                using FramePayload result = await window[i];
                if (result.Length != payload.Length)
                {
                    Assert.Fail($"A response had {result.Length} bytes instead of {payload.Length}.");
                }
            }
        }
    }

    /// <summary>Synchronous round trips: the calling thread waits by spinning, so everything it allocates is measured on it.</summary>
    private static void RoundTrips(FramedConnection client, byte[] payload, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ValueTask<FramePayload> response = client.RequestAsync(payload);
            var spin = default(SpinWait);
            while (!response.IsCompleted)
            {
                spin.SpinOnce();
            }

            using FramePayload result = response.GetAwaiter().GetResult();
            if (result.Length != payload.Length)
            {
                Assert.Fail($"Round trip {i} returned {result.Length} bytes.");
            }
        }
    }
}
