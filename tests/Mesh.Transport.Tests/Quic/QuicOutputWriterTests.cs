using System.Buffers;
using System.IO.Pipelines;
using Mesh.Transport.Quic;
using Mesh.Transport.Tests.Security;
using Xunit;

namespace Mesh.Transport.Tests.Quic;

/// <summary>The sending side of a QUIC connection (<see cref="QuicOutputWriter"/>), over a real QUIC stream on
/// loopback: batching, the send window's backpressure, cancellation, completion and abort.</summary>
public sealed class QuicOutputWriterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Writes_larger_than_a_batch_and_than_a_block_arrive_whole_and_in_order()
    {
        QuicTransportOptions options = QuicTestNode.TestOptions();
        options.MaxSendBatchBytes = 1000;
        await using Pair pair = await Pair.OpenAsync(options);

        // Sizes around the batch (1000) and the block (4096), one larger than a block asked for in one piece.
        int[] sizes = [1, 999, 1000, 1001, 4095, 4096, 4097, 10_000, 3];
        var expected = new List<byte>();
        int next = 0;
        foreach (int size in sizes)
        {
            Memory<byte> memory = pair.Outbound.Output.GetMemory(size);
            Assert.True(memory.Length >= size);
            for (int i = 0; i < size; i++)
            {
                memory.Span[i] = (byte)next;
                expected.Add((byte)next);
                next = (next * 31 + 7) % 251;
            }

            pair.Outbound.Output.Advance(size);
            Assert.Equal(size, pair.Outbound.Output.UnflushedBytes);
            FlushResult flush = await pair.Outbound.Output.FlushAsync(pair.Token);
            Assert.False(flush.IsCanceled);
            Assert.Equal(0, pair.Outbound.Output.UnflushedBytes);
        }

        await pair.Outbound.Output.CompleteAsync();
        byte[] received = await QuicTransportTests.ReadToEndAsync(pair.Inbound.Input, expected.Count, pair.Token);
        Assert.Equal(expected.ToArray(), received);
    }

    [Fact]
    public async Task A_flush_past_the_send_window_waits_until_the_peer_reads_and_then_everything_arrives()
    {
        await using Pair pair = await Pair.OpenAsync(SmallWindowOptions(maxSendBatchBytes: 3000));

        // The peer reads nothing: its pipe and QUIC's flow control fill up, then the native queue passes the window.
        (ValueTask<FlushResult> pending, long written) = await FillUntilAFlushWaitsAsync(pair.Outbound.Output, 256 * 1024, pair.Token);
        Assert.False(pending.IsCompleted);

        Task<byte[]> reading = QuicTransportTests.ReadToEndAsync(pair.Inbound.Input, (int)written, pair.Token);
        FlushResult flush = await pending.AsTask().WaitAsync(pair.Token);
        Assert.False(flush.IsCanceled);
        await pair.Outbound.Output.CompleteAsync();

        byte[] received = await reading.WaitAsync(pair.Token);
        AssertPattern(received, written);
    }

    [Fact]
    public async Task Completing_with_more_unflushed_than_the_peer_takes_before_it_reads_sends_everything_then_the_end()
    {
        await using Pair pair = await Pair.OpenAsync(SmallWindowOptions(maxSendBatchBytes: 3000));
        PipeWriter output = pair.Outbound.Output;

        // 8 MiB, never flushed: the last send outgrows what the reading side buffers (its pipe and QUIC's window, about
        // 2 MiB) before anyone reads, so it has to wait for the window with most of its batches still to go.
        const int Total = 8 * 1024 * 1024;
        WritePattern(output, 0, Total);

        await output.CompleteAsync();
        Task sent = ((QuicOutputWriter)output).Completion!;
        Assert.False(sent.IsCompleted, "The last send did not wait although the peer read nothing.");

        byte[] received = await QuicTransportTests.ReadToEndAsync(pair.Inbound.Input, Total, pair.Token);
        await sent.WaitAsync(pair.Token);
        AssertPattern(received, Total);
    }

    [Fact]
    public async Task Aborting_the_connection_fails_a_flush_that_waits_for_the_send_window_instead_of_leaving_it_waiting()
    {
        await using Pair pair = await Pair.OpenAsync(SmallWindowOptions());
        (ValueTask<FlushResult> pending, _) = await FillUntilAFlushWaitsAsync(pair.Outbound.Output, 64 * 1024, pair.Token);

        pair.Outbound.Abort("test");

        // The waiting flush fails now, or completed just before the abort when the window drained in time (about one run
        // in fifteen); it never keeps waiting.
        Exception? failure = await Record.ExceptionAsync(() => pending.AsTask().WaitAsync(pair.Token));
        if (failure is not null)
        {
            Assert.IsType<TransportException>(failure);
        }

        // Every flush after the abort fails: what it would send is dropped.
        pair.Outbound.Output.Write("dropped"u8);
        await Assert.ThrowsAsync<TransportException>(async () => await pair.Outbound.Output.FlushAsync(pair.Token));
    }

    [Fact]
    public async Task CancelPendingFlush_makes_the_next_flush_report_it_once_and_the_bytes_still_go_out()
    {
        await using Pair pair = await Pair.OpenAsync(QuicTestNode.TestOptions());
        PipeWriter output = pair.Outbound.Output;

        output.CancelPendingFlush();
        output.Write("one"u8);
        Assert.True((await output.FlushAsync(pair.Token)).IsCanceled);
        output.Write("two"u8);
        Assert.False((await output.FlushAsync(pair.Token)).IsCanceled);
        await output.CompleteAsync();

        Assert.Equal("onetwo"u8.ToArray(), await QuicTransportTests.ReadToEndAsync(pair.Inbound.Input, 6, pair.Token));
    }

    [Fact]
    public async Task A_completed_writer_refuses_writes_and_one_completed_with_an_error_resets_the_stream_instead_of_ending_it()
    {
        await using Pair pair = await Pair.OpenAsync(QuicTestNode.TestOptions());
        PipeWriter output = pair.Outbound.Output;
        output.Write("never delivered as a whole stream"u8);

        await output.CompleteAsync(new InvalidOperationException("the writer broke"));
        Assert.Throws<InvalidOperationException>(() => output.GetSpan());
        Assert.Throws<InvalidOperationException>(() => output.Advance(0));
        await pair.Outbound.DisposeAsync();

        await Assert.ThrowsAsync<TransportException>(() => QuicTransportTests.ReadToEndAsync(pair.Inbound.Input, 1024, pair.Token));
    }

    /// <summary>A 4 KiB send window, so a peer that does not read soon makes a flush wait. With a batch size that does
    /// not divide a block, and flushes of many batches, the send that waits is almost always one in the middle of a
    /// flush, with part of a block sent, so the rest of that flush is sent after the wait.</summary>
    private static QuicTransportOptions SmallWindowOptions(int? maxSendBatchBytes = null)
    {
        QuicTransportOptions options = QuicTestNode.TestOptions();
        options.SendWindowBytes = 4096;
        if (maxSendBatchBytes is { } batch)
        {
            options.MaxSendBatchBytes = batch;
        }

        return options;
    }

    private static byte Pattern(long index) => (byte)(index % 253);

    /// <summary>Writes the <see cref="Pattern"/> bytes <paramref name="start"/> to <paramref name="start"/> +
    /// <paramref name="count"/> of the stream, without flushing.</summary>
    private static void WritePattern(PipeWriter output, long start, int count)
    {
        for (int done = 0; done < count;)
        {
            Span<byte> span = output.GetSpan();
            int take = Math.Min(span.Length, count - done);
            for (int i = 0; i < take; i++)
            {
                span[i] = Pattern(start + done + i);
            }

            output.Advance(take);
            done += take;
        }
    }

    private static void AssertPattern(byte[] received, long expectedLength)
    {
        Assert.Equal(expectedLength, received.Length);
        for (int i = 0; i < received.Length; i++)
        {
            if (received[i] != Pattern(i))
            {
                Assert.Fail($"Byte {i} is {received[i]}, not {Pattern(i)}.");
            }
        }
    }

    /// <summary>Writes <paramref name="chunk"/> bytes per flush until a flush does not complete at once (bounded: 1,000
    /// flushes).</summary>
    private static async Task<(ValueTask<FlushResult> Pending, long Written)> FillUntilAFlushWaitsAsync(PipeWriter output, int chunk, CancellationToken cancellationToken)
    {
        long written = 0;
        for (int flushes = 0; flushes < 1000; flushes++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WritePattern(output, written, chunk);
            written += chunk;

            ValueTask<FlushResult> flush = output.FlushAsync(cancellationToken);
            if (!flush.IsCompleted)
            {
                return (flush, written);
            }

            await flush;
        }

        throw new InvalidOperationException("No flush waited for the send window although the peer read nothing.");
    }

    /// <summary>Two QUIC nodes on loopback and one stream between them.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly QuicTestNode _server;
        private readonly QuicTestNode _client;
        private readonly CancellationTokenSource _timeout = new(Timeout);

        private Pair(QuicTestNode server, QuicTestNode client)
        {
            _server = server;
            _client = client;
        }

        public ITransportConnection Outbound { get; private set; } = null!;

        public ITransportConnection Inbound { get; private set; } = null!;

        public CancellationToken Token => _timeout.Token;

        public static async Task<Pair> OpenAsync(QuicTransportOptions clientOptions)
        {
            QuicTestNode server = await new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeA)).ListenAsync();
            var pair = new Pair(server, new QuicTestNode(TestCertificates.Credentials(TestCertificates.NodeB), clientOptions));
            pair.Outbound = await pair._client.Transport.ConnectAsync(server.EndPoint, pair.Token);
            pair.Inbound = (await server.Listener!.AcceptAsync(pair.Token))!;
            return pair;
        }

        public async ValueTask DisposeAsync()
        {
            Outbound.Abort("test over");
            Inbound.Abort("test over");
            await Outbound.DisposeAsync();
            await Inbound.DisposeAsync();
            await _client.DisposeAsync();
            await _server.DisposeAsync();
            _timeout.Dispose();
        }
    }
}
