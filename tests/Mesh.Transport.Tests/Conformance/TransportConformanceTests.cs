using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Mesh.Transport.Framing;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>
/// What every transport must do, with the framing layer (<see cref="FramedConnection"/>) on top as the node uses it.
/// A transport's test class derives from this and supplies a pair of transports that trust each other
/// (<see cref="CreatePairAsync"/>) and the name the test peer process hosts it by (<see cref="PeerTransportName"/>).
/// </summary>
public abstract class TransportConformanceTests
{
    /// <summary>The longest any single step may take; generous, because the CI machine is small and shared.</summary>
    protected static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How soon the death of a peer must surface as a closed connection and failed requests.</summary>
    protected static readonly TimeSpan PeerDeathBound = TimeSpan.FromSeconds(15);

    /// <summary>Creates a server and a client transport that trust each other, with their metrics.</summary>
    protected abstract ValueTask<TransportPair> CreatePairAsync();

    /// <summary>Gets the <c>--transport</c> name of tests/Mesh.Transport.TestPeer for this transport.</summary>
    protected abstract string PeerTransportName { get; }

    /// <summary>Gets the address the server listens on.</summary>
    protected virtual EndPoint ListenEndPoint => new IPEndPoint(IPAddress.Loopback, 0);

    /// <summary>Gets the test peer's arguments after <c>--transport</c> and <c>--port</c> (for example credential file
    /// paths), matching the client transport of <paramref name="pair"/>.</summary>
    protected virtual IEnumerable<string> GetPeerArguments(TransportPair pair) => [];

    /// <summary>Starts an echo peer in another process; <see cref="KillablePeer.Kill"/> kills that process.</summary>
    protected virtual async Task<KillablePeer> StartKillablePeerAsync(TransportPair pair) =>
        await ProcessPeer.StartAsync(PeerTransportName, GetPeerArguments(pair));

    /// <summary>The framing options of every connection in these tests: defaults (16 MiB maximum frame size) with a
    /// request timeout long enough never to fire by accident.</summary>
    internal static FramedConnectionOptions Options() => new() { RequestTimeout = TimeSpan.FromMinutes(5) };

    [Fact]
    public async Task Client_connects_and_both_sides_see_the_authenticated_peer()
    {
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await FramedNode.StartAsync(pair.Server, ListenEndPoint, null, Options(), pair.ServerMetrics, NullLogger.Instance);
        await using ITransportConnection client = await pair.Client.ConnectAsync(server.EndPoint, CancellationToken.None);
        ITransportConnection accepted = await server.NextRawConnectionAsync();

        Assert.False(string.IsNullOrEmpty(client.Peer.Subject));
        Assert.False(string.IsNullOrEmpty(accepted.Peer.Subject));

        await client.Output.WriteAsync("ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await ReadExactlyAsync(accepted.Input, 4));
        await accepted.Output.WriteAsync("pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await ReadExactlyAsync(client.Input, 4));
    }

    [Fact]
    public async Task Both_sides_report_the_address_of_their_peer()
    {
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await FramedNode.StartAsync(pair.Server, ListenEndPoint, null, Options(), pair.ServerMetrics, NullLogger.Instance);
        await using ITransportConnection client = await pair.Client.ConnectAsync(server.EndPoint, CancellationToken.None);
        ITransportConnection accepted = await server.NextRawConnectionAsync();

        Assert.Equal(server.EndPoint, client.RemoteEndPoint);
        AssertInboundRemoteEndPoint(accepted.RemoteEndPoint, server.EndPoint);
    }

    /// <summary>Checks what an accepted connection says its peer's address is: by default an IP end point on the
    /// loopback interface with the client's own (ephemeral) port, which cannot be the listener's.</summary>
    /// <param name="remote">The accepted connection's <see cref="ITransportConnection.RemoteEndPoint"/>.</param>
    /// <param name="listening">The listener's address.</param>
    private protected virtual void AssertInboundRemoteEndPoint(EndPoint? remote, EndPoint listening)
    {
        IPEndPoint address = Assert.IsType<IPEndPoint>(remote);
        Assert.True(IPAddress.IsLoopback(address.Address), $"{address} is not a loopback address");
        Assert.NotEqual(0, address.Port);
        Assert.NotEqual(((IPEndPoint)listening).Port, address.Port);
    }

    /// <summary>16 MiB is the default <see cref="MeshOptions.MaxFrameSize"/>, which bounds the payload (the length
    /// field); the largest case sends exactly that payload, so its frame is 16 MiB plus the 16-byte header.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(1024)]
    [InlineData(1024 * 1024)]
    [InlineData(16 * 1024 * 1024)]
    public async Task A_request_is_answered_with_its_echo(int size)
    {
        FramedConnectionOptions options = Options();
        Assert.Equal(16 * 1024 * 1024, options.MaxFrameSize);
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await StartEchoServerAsync(pair);
        await using FramedConnection client = await ConnectAsync(pair, server);
        byte[] payload = Pattern(size);

        using FramePayload response = await client.RequestAsync(payload).AsTask().WaitAsync(StepTimeout);

        Assert.Equal(size, response.Length);
        Assert.True(response.Span.SequenceEqual(payload), "The echo differs from the request.");
    }

    [Fact]
    public async Task Ten_thousand_concurrent_requests_on_one_connection_are_all_answered()
    {
        const int Count = 10_000;
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await StartEchoServerAsync(pair);
        await using FramedConnection client = await ConnectAsync(pair, server);
        var responses = new Task<FramePayload>[Count];
        byte[] payload = new byte[8];

        for (int i = 0; i < Count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(payload, i);
            responses[i] = client.RequestAsync(payload).AsTask();
        }

        await Task.WhenAll(responses).WaitAsync(StepTimeout);
        for (int i = 0; i < Count; i++)
        {
            using FramePayload response = await responses[i];
            Assert.Equal(i, BinaryPrimitives.ReadInt64LittleEndian(response.Span));
        }
    }

    [Fact]
    public async Task One_way_messages_arrive_in_the_order_they_were_sent()
    {
        const int Count = 10_000;
        await using TransportPair pair = await CreatePairAsync();
        var handler = new RecordingHandler(Count);
        await using FramedNode server = await FramedNode.StartAsync(pair.Server, ListenEndPoint, handler, Options(), pair.ServerMetrics, NullLogger.Instance);
        await using FramedConnection client = await ConnectAsync(pair, server);
        byte[] payload = new byte[32];

        for (int i = 1; i <= Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            await client.SendOneWayAsync(payload);
        }

        await handler.AllArrived.WaitAsync(StepTimeout);
        Assert.Equal(Enumerable.Range(1, Count), handler.Received);
    }

    [Fact]
    public async Task A_killed_peer_fails_the_requests_in_flight_within_a_bounded_time()
    {
        await using TransportPair pair = await CreatePairAsync();
        KillablePeer peer = await StartKillablePeerAsync(pair);
        try
        {
            await using FramedConnection client = await ConnectAsync(pair, peer.EndPoint);
            using (FramePayload hello = await client.RequestAsync("hello"u8).AsTask().WaitAsync(StepTimeout))
            {
                Assert.True(hello.Span.SequenceEqual("hello"u8));
            }

            // The stalled request holds the peer's read loop, so the others stay unanswered: all are in flight.
            var inFlight = new List<Task<FramePayload>> { client.RequestAsync(EchoHandler.StallPayload).AsTask() };
            for (int i = 0; i < 100; i++)
            {
                inFlight.Add(client.RequestAsync("pending"u8).AsTask());
            }

            Assert.DoesNotContain(inFlight, static t => t.IsCompleted);
            Stopwatch elapsed = Stopwatch.StartNew();
            peer.Kill();

            foreach (Task<FramePayload> request in inFlight)
            {
                // A TimeoutException from WaitAsync (not a TransportException) fails the test.
                await Assert.ThrowsAnyAsync<TransportException>(() => request.WaitAsync(PeerDeathBound));
            }

            await client.Completion.WaitAsync(PeerDeathBound);
            Assert.IsType<ConnectionClosedException>(client.CloseReason);
            Assert.True(elapsed.Elapsed < PeerDeathBound, $"The peer's death surfaced after {elapsed.Elapsed}.");
        }
        finally
        {
            await peer.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_oversized_frame_closes_its_connection_before_anything_is_allocated_for_it()
    {
        await using TransportPair pair = await CreatePairAsync();
        var log = new RecordingLogger();
        await using FramedNode server = await StartEchoServerAsync(pair, log);
        await using ITransportConnection attacker = await pair.Client.ConnectAsync(server.EndPoint, CancellationToken.None);
        FramedConnection victim = await server.NextConnectionAsync();
        long errorsBefore = pair.ServerMetrics.Errors;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        // A header claiming a 2 GiB payload, and not one byte of it.
        await attacker.Output.WriteAsync(RawHeader(length: 0x8000_0000, kind: (byte)FrameKind.Request, correlationId: 1));

        await victim.Completion.WaitAsync(StepTimeout);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        FrameFormatException error = Assert.IsType<FrameFormatException>(victim.CloseReason?.InnerException);
        Assert.Equal(FrameFormatError.Oversized, error.Error);
        Assert.True(pair.ServerMetrics.Errors > errorsBefore, "The refused frame was not counted.");
        Assert.Contains(log.Entries, static e => e.Id.Id == 100 && e.Level == LogLevel.Warning);

        // Process-wide (tests of other classes may run meanwhile), so the bound is loose: far below the 2 GiB claimed.
        Assert.True(allocated < 256L * 1024 * 1024, $"{allocated} bytes were allocated while refusing the frame.");
        await ReadUntilEndAsync(attacker.Input).WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task A_malformed_frame_closes_only_its_own_connection()
    {
        await using TransportPair pair = await CreatePairAsync();
        var log = new RecordingLogger();
        await using FramedNode server = await StartEchoServerAsync(pair, log);
        await using ITransportConnection attacker = await pair.Client.ConnectAsync(server.EndPoint, CancellationToken.None);
        FramedConnection victim = await server.NextConnectionAsync();
        await using FramedConnection bystander = await ConnectAsync(pair, server);
        FramedConnection bystanderServerSide = await server.NextConnectionAsync();
        using (FramePayload before = await bystander.RequestAsync("before"u8).AsTask().WaitAsync(StepTimeout))
        {
            Assert.True(before.Span.SequenceEqual("before"u8));
        }

        long errorsBefore = pair.ServerMetrics.Errors;
        byte[] malformed = RawHeader(length: 0, kind: (byte)FrameKind.Request, correlationId: 1);
        malformed[6] = 0xFF;
        await attacker.Output.WriteAsync(malformed);

        await victim.Completion.WaitAsync(StepTimeout);
        FrameFormatException error = Assert.IsType<FrameFormatException>(victim.CloseReason?.InnerException);
        Assert.Equal(FrameFormatError.ReservedBitsSet, error.Error);
        Assert.True(pair.ServerMetrics.Errors > errorsBefore, "The malformed frame was not counted.");
        Assert.Contains(log.Entries, static e => e.Id.Id == 100 && e.Level == LogLevel.Warning && e.Exception is FrameFormatException);

        using (FramePayload after = await bystander.RequestAsync("after"u8).AsTask().WaitAsync(StepTimeout))
        {
            Assert.True(after.Span.SequenceEqual("after"u8));
        }

        Assert.Null(bystanderServerSide.CloseReason);
    }

    [Fact]
    public async Task Graceful_close_delivers_everything_sent_before_it()
    {
        const int Count = 1_000;
        await using TransportPair pair = await CreatePairAsync();
        var handler = new RecordingHandler(Count);
        await using FramedNode server = await FramedNode.StartAsync(pair.Server, ListenEndPoint, handler, Options(), pair.ServerMetrics, NullLogger.Instance);
        FramedConnection client = await ConnectAsync(pair, server);
        FramedConnection serverSide = await server.NextConnectionAsync();
        byte[] payload = new byte[1024];
        for (int i = 1; i <= Count; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            await client.SendOneWayAsync(payload);
        }

        Task<FramePayload> last = client.RequestAsync("last"u8).AsTask();
        await client.CloseAsync().WaitAsync(StepTimeout);

        using (FramePayload reply = await last.WaitAsync(StepTimeout))
        {
            Assert.True(reply.Span.SequenceEqual("last"u8));
        }

        Assert.Equal(Enumerable.Range(1, Count), handler.Received);
        await serverSide.Completion.WaitAsync(StepTimeout);
        await Assert.ThrowsAsync<ConnectionClosedException>(async () => await client.SendOneWayAsync(payload));
    }

    [Fact]
    public async Task Aborting_a_connection_surfaces_as_an_error_on_the_other_side()
    {
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await StartEchoServerAsync(pair);
        await using FramedConnection client = await ConnectAsync(pair, server);
        FramedConnection serverSide = await server.NextConnectionAsync();
        Task<FramePayload> stalled = client.RequestAsync(EchoHandler.StallPayload).AsTask();

        serverSide.Abort("test");

        await Assert.ThrowsAsync<ConnectionClosedException>(() => stalled.WaitAsync(PeerDeathBound));
        await client.Completion.WaitAsync(PeerDeathBound);
        Assert.NotNull(client.CloseReason);
    }

    [Fact]
    public async Task Aborting_from_another_thread_while_both_ends_stream_ends_every_read_and_write_with_an_error()
    {
        // FramedConnection aborts from its read loop while its write loop writes, so Abort must be safe beside the
        // connection's own reads and writes. Several rounds, because a race shows only now and then.
        await using TransportPair pair = await CreatePairAsync();
        await using FramedNode server = await FramedNode.StartAsync(pair.Server, ListenEndPoint, null, Options(), pair.ServerMetrics, NullLogger.Instance);
        for (int round = 0; round < 10; round++)
        {
            await using ITransportConnection client = await pair.Client.ConnectAsync(server.EndPoint, CancellationToken.None).AsTask().WaitAsync(StepTimeout);
            await using ITransportConnection accepted = await server.NextRawConnectionAsync().WaitAsync(StepTimeout);
            var received = new StrongBox<long>();
            using var stop = new CancellationTokenSource(StepTimeout);
            Task[] loops =
            [
                Task.Run(() => StreamUntilItFailsAsync(client.Output, stop.Token)),
                Task.Run(() => StreamUntilItFailsAsync(accepted.Output, stop.Token)),
                Task.Run(() => DrainUntilItFailsAsync(client.Input, received, stop.Token)),
                Task.Run(() => DrainUntilItFailsAsync(accepted.Input, received, stop.Token)),
            ];

            Assert.True(await Eventually.TrueAsync(() => Interlocked.Read(ref received.Value) >= 256 * 1024, StepTimeout), "No bytes flowed.");
            accepted.Abort("test");

            // Reads and writes end within the bound, each with a transport's error or the end of its stream: nothing
            // else (a pipe corrupted by a concurrent completion throws NullReferenceException or
            // InvalidOperationException), and nothing hangs.
            foreach (Task loop in loops)
            {
                Exception? error = await Record.ExceptionAsync(() => loop.WaitAsync(PeerDeathBound));
                Assert.True(error is null or TransportException or IOException, $"Round {round}: {error}");
            }
        }
    }

    internal static byte[] Pattern(int size)
    {
        byte[] payload = new byte[size];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)((i * 31) + (i >> 8));
        }

        return payload;
    }

    internal static byte[] RawHeader(uint length, byte kind, ulong correlationId)
    {
        byte[] header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = kind;
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), correlationId);
        return header;
    }

    private Task<FramedNode> StartEchoServerAsync(TransportPair pair, ILogger? logger = null) =>
        FramedNode.StartAsync(pair.Server, ListenEndPoint, EchoHandler.Instance, Options(), pair.ServerMetrics, logger ?? NullLogger.Instance);

    private static Task<FramedConnection> ConnectAsync(TransportPair pair, FramedNode server) => ConnectAsync(pair, server.EndPoint);

    private static async Task<FramedConnection> ConnectAsync(TransportPair pair, EndPoint endPoint)
    {
        ITransportConnection transport = await pair.Client.ConnectAsync(endPoint, CancellationToken.None).AsTask().WaitAsync(StepTimeout);
        var connection = new FramedConnection(transport, pair.Client.Name, null, Options(), pair.ClientMetrics, NullLogger.Instance);
        connection.Start();
        return connection;
    }

    /// <summary>Writes and flushes 4 KiB at a time until a flush fails or reports the stream completed.</summary>
    private static async Task StreamUntilItFailsAsync(PipeWriter output, CancellationToken stop)
    {
        byte[] chunk = Pattern(4096);
        while (!stop.IsCancellationRequested)
        {
            FlushResult flush = await output.WriteAsync(chunk);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }

        Assert.Fail("Writes went on for the whole step timeout after the abort.");
    }

    /// <summary>Reads and discards until a read fails or the stream ends, counting the bytes.</summary>
    private static async Task DrainUntilItFailsAsync(PipeReader input, StrongBox<long> received, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ReadResult result = await input.ReadAsync();
            Interlocked.Add(ref received.Value, result.Buffer.Length);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }

        Assert.Fail("Reads went on for the whole step timeout after the abort.");
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        while (true)
        {
            ReadResult result = await reader.ReadAsync(timeout.Token);
            if (result.Buffer.Length >= count)
            {
                byte[] bytes = result.Buffer.Slice(0, count).ToArray();
                reader.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }

            Assert.False(result.IsCompleted, "The stream ended early.");
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>Reads until the stream ends, cleanly or with an error (both are how a closed connection looks).</summary>
    private static async Task ReadUntilEndAsync(PipeReader reader)
    {
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync();
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            // An error is how an aborted connection ends (the transport's own exception type, or what its stack throws).
        }
    }
}
