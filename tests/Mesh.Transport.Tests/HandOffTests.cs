using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Tests.Conformance;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>
/// The write loop's hold for callers it has just answered (<see cref="HandOffs"/>): a frame queued while such a caller
/// has not started waits for it, and only for it; every hold ends.
/// </summary>
public sealed class HandOffTests : IAsyncLifetime
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a request that is held must stay unanswered. The in-memory round trip takes microseconds, so
    /// an answer that was not held comes long before this.</summary>
    private static readonly TimeSpan HeldFor = TimeSpan.FromMilliseconds(300);

    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly GateHandler _handler = new();
    private FramedNode? _server;

    private FramedNode Server => _server!;

    public async Task InitializeAsync() =>
        _server = await FramedNode.StartAsync(new InMemoryTransport("server", _network), new IPEndPoint(IPAddress.Loopback, 0), _handler, new FramedConnectionOptions(), _metrics, NullLogger.Instance);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task A_request_sent_while_an_answered_caller_waits_in_the_pool_leaves_once_that_caller_starts()
    {
        // No timeout scan, so nothing but the caller's start can release the hold.
        await using FramedConnection client = await ConnectAsync(new FramedConnectionOptions { RequestTimeout = Timeout.InfiniteTimeSpan });
        await using var answered = new BlockedCaller(client.RequestAsync("gate"u8));
        _handler.Open();
        await answered.Entered.WaitAsync(StepTimeout);

        Task<FramePayload> next = client.RequestAsync("next"u8).AsTask();

        await Assert.ThrowsAsync<TimeoutException>(() => next.WaitAsync(HeldFor));
        answered.Release();
        using FramePayload nextAnswer = await next.WaitAsync(StepTimeout);
        Assert.Equal("next", Encoding.UTF8.GetString(nextAnswer.Span));
        Assert.Equal("gate", await answered.Answer.WaitAsync(StepTimeout));
    }

    [Fact]
    public async Task A_caller_whose_continuation_is_posted_to_a_synchronization_context_holds_nothing()
    {
        await using FramedConnection client = await ConnectAsync(new FramedConnectionOptions { RequestTimeout = Timeout.InfiniteTimeSpan });
        var context = new QueueingContext();
        ValueTask<FramePayload> gated = client.RequestAsync("gate"u8);
        string? answer = null;
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            // Captures the context: the answer's continuation is posted to it, and nobody runs it yet.
            gated.GetAwaiter().OnCompleted(() =>
            {
                using FramePayload payload = gated.GetAwaiter().GetResult();
                answer = Encoding.UTF8.GetString(payload.Span);
            });
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        _handler.Open();
        Assert.True(await Eventually.TrueAsync(() => context.Count == 1, StepTimeout), "The answer never reached its caller's context.");

        using (FramePayload next = await client.RequestAsync("next"u8).AsTask().WaitAsync(StepTimeout))
        {
            Assert.Equal("next", Encoding.UTF8.GetString(next.Span));
        }

        context.RunAll();
        Assert.Equal("gate", answer);
    }

    [Fact]
    public async Task The_timeout_scan_sends_a_held_frame_whose_caller_never_starts()
    {
        var options = new FramedConnectionOptions { RequestTimeout = TimeSpan.FromMinutes(5), TimeoutScanInterval = TimeSpan.FromMilliseconds(20) };
        await using FramedConnection client = await ConnectAsync(options);
        await using var answered = new BlockedCaller(client.RequestAsync("gate"u8));
        _handler.Open();
        await answered.Entered.WaitAsync(StepTimeout);

        // The caller stays blocked before it takes its answer; the scan must still let this request out.
        using FramePayload next = await client.RequestAsync("next"u8).AsTask().WaitAsync(StepTimeout);

        Assert.Equal("next", Encoding.UTF8.GetString(next.Span));
        Assert.False(answered.Answer.IsCompleted);
    }

    [Fact]
    public async Task Callers_that_each_send_their_next_request_as_soon_as_they_are_answered_all_finish()
    {
        // Many callers answered in bursts, holds taken and released from many threads at once. Some send their next
        // request at once, some only after they yield the thread, and they stop at different times. A frame the
        // bookkeeping lost would stay unsent forever, since there is no timeout scan here to rescue it. (A caller that
        // releases a hold and sends nothing itself is the first test's case.)
        await using FramedConnection client = await ConnectAsync(new FramedConnectionOptions { RequestTimeout = Timeout.InfiniteTimeSpan });
        _handler.Open();
        const int Callers = 64;
        var callers = new Task<int>[Callers];
        for (int c = 0; c < callers.Length; c++)
        {
            byte[] payload = Encoding.UTF8.GetBytes($"caller {c}");
            int calls = 100 + (c * 7);
            bool yields = c % 2 == 0;
            callers[c] = Task.Run(async () =>
            {
                int echoed = 0;
                for (int i = 0; i < calls; i++)
                {
                    using (FramePayload answer = await client.RequestAsync(payload).ConfigureAwait(false))
                    {
                        echoed += answer.Span.SequenceEqual(payload) ? 1 : 0;
                    }

                    if (yields)
                    {
                        await Task.Yield();
                    }
                }

                return echoed - calls;
            });
        }

        int[] missing = await Task.WhenAll(callers).WaitAsync(StepTimeout);

        Assert.All(missing, static m => Assert.Equal(0, m));
    }

    [Fact]
    public void A_hold_waits_for_the_callers_answered_before_it_and_not_for_later_ones()
    {
        int releases = 0;
        var handOffs = new HandOffs(() => releases++);
        Assert.False(handOffs.TryHold());

        handOffs.Queued();
        handOffs.Queued();
        Assert.True(handOffs.TryHold());
        handOffs.Queued();
        handOffs.Started();
        Assert.True(handOffs.IsHolding);
        Assert.Equal(0, releases);

        // The second caller ends the hold although the third, answered after the frame was queued, has not started.
        handOffs.Started();
        Assert.Equal(1, releases);
        Assert.False(handOffs.IsHolding);

        Assert.True(handOffs.TryHold());
        handOffs.Started();
        Assert.Equal(2, releases);
        Assert.False(handOffs.TryHold());
    }

    private async Task<FramedConnection> ConnectAsync(FramedConnectionOptions options)
    {
        ITransportConnection transport = await new InMemoryTransport("client", _network).ConnectAsync(Server.EndPoint, CancellationToken.None);
        var connection = new FramedConnection(transport, "memory", null, options, _metrics, NullLogger.Instance);
        connection.Start();
        return connection;
    }

    /// <summary>A caller whose continuation, queued on the pool when its answer comes, blocks until <see cref="Release"/>
    /// before it takes the answer: for as long as it blocks, it has not started in the hold's terms.</summary>
    private sealed class BlockedCaller : IAsyncDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public BlockedCaller(ValueTask<FramePayload> request)
        {
            Assert.False(request.IsCompleted, "The request must still wait when its continuation is registered.");
            ValueTaskAwaiter<FramePayload> awaiter = request.GetAwaiter();
            request.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() =>
            {
                _entered.TrySetResult();
                if (!_release.Wait(StepTimeout))
                {
                    _answer.TrySetException(new TimeoutException("The test never released the caller."));
                }

                using FramePayload payload = awaiter.GetResult();
                _answer.TrySetResult(Encoding.UTF8.GetString(payload.Span));
            });
        }

        public Task Entered => _entered.Task;

        public Task<string> Answer => _answer.Task;

        public void Release() => _release.Set();

        public async ValueTask DisposeAsync()
        {
            Release();
            await Answer.WaitAsync(StepTimeout).ConfigureAwait(false);
            _release.Dispose();
        }
    }

    /// <summary>Keeps what is posted to it until the test runs it.</summary>
    private sealed class QueueingContext : SynchronizationContext
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();

        public int Count => _posted.Count;

        public override void Post(SendOrPostCallback d, object? state) => _posted.Enqueue((d, state));

        public void RunAll()
        {
            while (_posted.TryDequeue(out (SendOrPostCallback Callback, object? State) item))
            {
                item.Callback(item.State);
            }
        }
    }
}
