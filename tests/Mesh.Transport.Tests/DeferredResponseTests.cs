using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Mesh.Transport.Framing;
using Mesh.Transport.Memory;
using Mesh.Transport.Tests.Conformance;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests;

/// <summary>Handlers that answer later (<see cref="FramedConnection.Defer"/>): answers leave in completion order, the
/// read loop is free meanwhile, and the number outstanding is bounded by waiting, not by dropping.</summary>
public sealed class DeferredResponseTests : IAsyncLifetime
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);
    private const int MaxDeferred = 4;
    private readonly InMemoryNetwork _network = new();
    private readonly TransportMetrics _metrics = new();
    private readonly DeferringHandler _handler = new();
    private FramedNode? _server;
    private FramedConnection? _client;

    private FramedConnection Client => _client!;

    public async Task InitializeAsync()
    {
        var options = new FramedConnectionOptions { RequestTimeout = TimeSpan.FromMinutes(5), MaxDeferredResponses = MaxDeferred };
        _server = await FramedNode.StartAsync(new InMemoryTransport("server", _network), new IPEndPoint(IPAddress.Loopback, 0), _handler, options, _metrics, NullLogger.Instance);
        ITransportConnection transport = await new InMemoryTransport("client", _network).ConnectAsync(_server.EndPoint, CancellationToken.None);
        _client = new FramedConnection(transport, "memory", null, options, _metrics, NullLogger.Instance);
        _client.Start();
    }

    public async Task DisposeAsync()
    {
        _handler.CompleteAll();
        await Client.DisposeAsync();
        await _server!.DisposeAsync();
        _metrics.Dispose();
    }

    [Fact]
    public async Task A_deferred_request_does_not_hold_up_the_requests_behind_it_and_answers_when_completed()
    {
        Task<FramePayload> first = Client.RequestAsync("defer:1"u8).AsTask();
        await _handler.WhenDeferredAsync("defer:1").WaitAsync(StepTimeout);

        using (FramePayload echo = await Client.RequestAsync("now"u8).AsTask().WaitAsync(StepTimeout))
        {
            Assert.Equal("now", Encoding.UTF8.GetString(echo.Span));
        }

        Assert.False(first.IsCompleted);
        _handler.Complete("defer:1");
        using FramePayload answer = await first.WaitAsync(StepTimeout);
        Assert.Equal("answer:defer:1", Encoding.UTF8.GetString(answer.Span));
    }

    [Fact]
    public async Task Deferred_requests_complete_in_any_order_each_with_its_own_answer()
    {
        Task<FramePayload>[] calls = [.. Enumerable.Range(0, MaxDeferred).Select(i => Client.RequestAsync(Encoding.UTF8.GetBytes("defer:" + i)).AsTask())];
        for (int i = 0; i < MaxDeferred; i++)
        {
            await _handler.WhenDeferredAsync("defer:" + i).WaitAsync(StepTimeout);
        }

        for (int i = MaxDeferred - 1; i >= 0; i--)
        {
            _handler.Complete("defer:" + i);
            using FramePayload answer = await calls[i].WaitAsync(StepTimeout);
            Assert.Equal("answer:defer:" + i, Encoding.UTF8.GetString(answer.Span));
        }
    }

    [Fact]
    public async Task At_the_deferral_limit_the_read_loop_waits_until_one_completes()
    {
        for (int i = 0; i < MaxDeferred; i++)
        {
            _ = Client.RequestAsync(Encoding.UTF8.GetBytes("defer:" + i)).AsTask();
            await _handler.WhenDeferredAsync("defer:" + i).WaitAsync(StepTimeout);
        }

        // The connection holds MaxDeferred answers: the next frame stays unread, so even an echo waits.
        Task<FramePayload> blocked = Client.RequestAsync("now"u8).AsTask();
        await Task.Delay(200);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(MaxDeferred, _handler.Handled);

        _handler.Complete("defer:0");
        using FramePayload echo = await blocked.WaitAsync(StepTimeout);
        Assert.Equal("now", Encoding.UTF8.GetString(echo.Span));
    }

    [Fact]
    public async Task A_deferred_failure_reaches_the_caller_as_a_typed_error_and_a_second_completion_is_refused()
    {
        Task<FramePayload> call = Client.RequestAsync("defer:f"u8).AsTask();
        DeferredResponse response = await _handler.WhenDeferredAsync("defer:f").WaitAsync(StepTimeout);
        _handler.Forget("defer:f");

        response.Fail("refused later");

        RemoteRequestException error = await Assert.ThrowsAsync<RemoteRequestException>(() => call.WaitAsync(StepTimeout));
        Assert.Equal("refused later", error.Message);
        Assert.Throws<InvalidOperationException>(response.Complete);
    }

    /// <summary>Defers every request whose payload starts with "defer:" (answered "answer:" + payload when the test
    /// completes it); echoes the others at once.</summary>
    private sealed class DeferringHandler : IFrameHandler
    {
        private readonly ConcurrentDictionary<string, TaskCompletionSource<DeferredResponse>> _deferred = new();
        private int _handled;

        public int Handled => Volatile.Read(ref _handled);

        public Task<DeferredResponse> WhenDeferredAsync(string name) => Slot(name).Task;

        public void Complete(string name)
        {
            DeferredResponse response = Slot(name).Task.Result;
            response.Writer.Write(Encoding.UTF8.GetBytes("answer:" + name));
            response.Complete();
            _deferred.TryRemove(name, out _);
        }

        public void Forget(string name) => _deferred.TryRemove(name, out _);

        public void CompleteAll()
        {
            foreach ((string name, TaskCompletionSource<DeferredResponse> slot) in _deferred)
            {
                if (slot.Task.IsCompletedSuccessfully && _deferred.TryRemove(name, out _))
                {
                    slot.Task.Result.Complete();
                }
            }
        }

        public ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _handled);
            string text = Encoding.UTF8.GetString(payload.ToArray());
            if (text.StartsWith("defer:", StringComparison.Ordinal))
            {
                Slot(text).TrySetResult(connection.Defer(response));
                return default;
            }

            response.Write(payload.ToArray());
            return default;
        }

        public ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) => default;

        private TaskCompletionSource<DeferredResponse> Slot(string name) =>
            _deferred.GetOrAdd(name, static _ => new TaskCompletionSource<DeferredResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
