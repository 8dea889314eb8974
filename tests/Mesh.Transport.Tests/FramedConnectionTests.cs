using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Tests.Conformance;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>What the framing layer does on its own (over the in-memory transport): timeouts, cancellation, late
/// responses, handler failures, ping, backpressure.</summary>
public sealed class FramedConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);
    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly RecordingLogger _clientLog = new();
    private readonly GateHandler _handler = new();
    private FramedNode? _server;
    private FramedConnection? _client;

    private FramedNode Server => _server!;

    private FramedConnection Client => _client!;

    public async Task InitializeAsync()
    {
        _server = await FramedNode.StartAsync(new InMemoryTransport("server", _network), new IPEndPoint(IPAddress.Loopback, 0), _handler, Options(), _metrics, NullLogger.Instance);
        _client = await ConnectAsync(Options(), _clientLog);
    }

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task A_request_that_times_out_completes_its_caller_and_its_late_response_is_dropped()
    {
        ValueTask<FramePayload> slow = Client.RequestAsync("gate"u8, TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<TimeoutException>(async () => await slow.AsTask().WaitAsync(StepTimeout));
        _handler.Open();

        // The late answer to "gate" must not complete the next request that reuses the slot.
        using FramePayload next = await Client.RequestAsync("next"u8).AsTask().WaitAsync(StepTimeout);
        Assert.True(next.Span.SequenceEqual("next"u8), Encoding.UTF8.GetString(next.Span));
        Assert.Contains(_clientLog.Entries, static e => e.Id.Id == 104);
        Assert.Null(Client.CloseReason);
    }

    [Fact]
    public async Task A_cancelled_request_completes_its_caller_and_its_late_response_is_dropped()
    {
        using var cancel = new CancellationTokenSource();
        Task<FramePayload> slow = Client.RequestAsync("gate"u8, cancel.Token).AsTask();
        Assert.False(slow.IsCompleted);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow.WaitAsync(StepTimeout));
        _handler.Open();
        using FramePayload next = await Client.RequestAsync("next"u8).AsTask().WaitAsync(StepTimeout);
        Assert.True(next.Span.SequenceEqual("next"u8));
    }

    [Fact]
    public async Task A_small_answer_keeps_its_request_slot_until_disposed_and_is_not_overwritten_by_later_answers()
    {
        // The answer lives in its request's own buffer, so the slot must not serve another request while it is held.
        FramePayload first = await Client.RequestAsync("first answer"u8).AsTask().WaitAsync(StepTimeout);
        int slots = Client.RequestSlots;
        for (int i = 0; i < 8; i++)
        {
            using FramePayload other = await Client.RequestAsync(Encoding.UTF8.GetBytes($"other answer {i}")).AsTask().WaitAsync(StepTimeout);
            Assert.Equal($"other answer {i}", Encoding.UTF8.GetString(other.Span));
        }

        Assert.Equal("first answer", Encoding.UTF8.GetString(first.Span));
        Assert.Equal(slots + 1, Client.RequestSlots);

        // Disposed, the slot is free again: the next requests reuse the two slots rather than growing the table.
        first.Dispose();
        for (int i = 0; i < 8; i++)
        {
            using FramePayload again = await Client.RequestAsync("again"u8).AsTask().WaitAsync(StepTimeout);
            Assert.True(again.Span.SequenceEqual("again"u8));
        }

        Assert.Equal(slots + 1, Client.RequestSlots);
    }

    [Fact]
    public async Task Answers_larger_than_the_request_buffer_and_empty_answers_round_trip_and_free_their_slot_at_once()
    {
        byte[] large = [.. Enumerable.Range(0, PendingRequest.MaxAnswerBufferLength + 1).Select(static i => (byte)i)];
        FramePayload big = await Client.RequestAsync(large).AsTask().WaitAsync(StepTimeout);
        FramePayload empty = await Client.RequestAsync(ReadOnlySpan<byte>.Empty).AsTask().WaitAsync(StepTimeout);
        int slots = Client.RequestSlots;

        // Neither holds its slot: a pooled array (large) and nothing (empty) are not the request's buffer.
        using (FramePayload next = await Client.RequestAsync("next"u8).AsTask().WaitAsync(StepTimeout))
        {
            Assert.True(next.Span.SequenceEqual("next"u8));
        }

        Assert.Equal(slots, Client.RequestSlots);
        Assert.True(big.Span.SequenceEqual(large));
        Assert.Equal(0, empty.Length);
        big.Dispose();
        empty.Dispose();
    }

    [Fact]
    public async Task A_failing_handler_answers_with_a_typed_error_and_the_connection_keeps_working()
    {
        RemoteRequestException error = await Assert.ThrowsAsync<RemoteRequestException>(async () => await Client.RequestAsync("fail"u8).AsTask().WaitAsync(StepTimeout));

        Assert.Equal("the handler refused", error.Message);
        using FramePayload echo = await Client.RequestAsync("still here"u8).AsTask().WaitAsync(StepTimeout);
        Assert.True(echo.Span.SequenceEqual("still here"u8));
    }

    [Fact]
    public async Task A_ping_is_answered_with_a_pong_of_the_same_id_and_payload()
    {
        await using ITransportConnection raw = await new InMemoryTransport("prober", _network).ConnectAsync(Server.EndPoint, CancellationToken.None);
        byte[] ping = [.. TransportConformanceTests.RawHeader(3, (byte)FrameKind.Ping, 77), 1, 2, 3];

        await raw.Output.WriteAsync(ping);

        ReadResult result;
        ReadOnlySequence<byte> buffer;
        using var timeout = new CancellationTokenSource(StepTimeout);
        while (true)
        {
            result = await raw.Input.ReadAsync(timeout.Token);
            buffer = result.Buffer;
            if (FrameDecoder.TryRead(ref buffer, 1024, out FrameHeader header, out ReadOnlySequence<byte> payload))
            {
                Assert.Equal((FrameKind.Pong, 77UL), (header.Kind, header.CorrelationId));
                Assert.Equal([1, 2, 3], payload.ToArray());
                raw.Input.AdvanceTo(buffer.Start);
                return;
            }

            Assert.False(result.IsCompleted, "The connection ended without a pong.");
            raw.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    [Fact]
    public async Task A_slow_reader_makes_its_senders_wait_and_memory_stays_bounded()
    {
        // The server's handler holds its first one-way message, so it stops reading: the in-memory pipe fills to its
        // pause threshold, the client's write loop waits on its flush, the send queue fills, and senders must wait.
        FramedConnectionOptions options = Options();
        await using FramedConnection sender = await ConnectAsync(options, NullLogger.Instance);
        byte[] payload = new byte[16 * 1024];
        long accepted = 0;
        ValueTask blocked = default;
        bool sawBackpressure = false;
        for (int i = 0; i < 10_000; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            blocked = sender.SendOneWayAsync(payload);
            if (!blocked.IsCompleted)
            {
                sawBackpressure = true;
                break;
            }

            accepted += payload.Length;
        }

        Assert.True(sawBackpressure, "10,000 messages of 16 KiB were taken without waiting: no backpressure.");

        // What was taken sits in the peer's pipe (pause threshold), one coalesced batch, and the send queue.
        long bound = InMemoryTransport.DefaultPauseThreshold + options.CoalescingBytes + options.MaxQueuedSendBytes + (2 * payload.Length);
        Assert.True(accepted <= bound, $"{accepted} bytes were taken before senders had to wait; the bound is {bound}.");
        Assert.False(blocked.IsCompleted);

        _handler.Open();
        await blocked.AsTask().WaitAsync(StepTimeout);
    }

    [Fact]
    public async Task After_a_burst_the_frame_pool_keeps_no_more_than_its_bound_and_its_count_matches_what_it_holds()
    {
        // Far more frames in flight than the pool may keep: the write loop pools what fits and releases the rest.
        FramedConnectionOptions options = Options();
        options.FramePoolBytes = 64 * 1024;
        await using FramedConnection sender = await ConnectAsync(options, NullLogger.Instance);
        byte[] payload = new byte[4 * 1024];

        for (int round = 0; round < 3; round++)
        {
            var requests = new Task<FramePayload>[500];
            for (int i = 0; i < requests.Length; i++)
            {
                requests[i] = sender.RequestAsync(payload).AsTask();
            }

            foreach (FramePayload answer in await Task.WhenAll(requests).WaitAsync(StepTimeout))
            {
                Assert.Equal(payload.Length, answer.Length);
                answer.Dispose();
            }

            (int frames, long bytes, long counted) = sender.FramePoolUsage;
            Assert.True(frames > 0, "The pool kept no frame at all.");
            Assert.True(bytes <= options.FramePoolBytes, $"The pool holds {bytes} bytes in {frames} frames; its bound is {options.FramePoolBytes}.");
            Assert.Equal(bytes, counted);
        }
    }

    private static FramedConnectionOptions Options() => new() { RequestTimeout = TimeSpan.FromMinutes(5) };

    private async Task<FramedConnection> ConnectAsync(FramedConnectionOptions options, ILogger logger)
    {
        ITransportConnection transport = await new InMemoryTransport("client", _network).ConnectAsync(Server.EndPoint, CancellationToken.None);
        var connection = new FramedConnection(transport, "memory", null, options, _metrics, logger);
        connection.Start();
        return connection;
    }
}
