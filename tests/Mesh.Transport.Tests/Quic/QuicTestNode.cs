using System.Net;
using Mesh.Transport.Quic;

namespace Mesh.Transport.Tests.Quic;

/// <summary>A QUIC transport with its own metrics and recording logger, for one side of a test.</summary>
internal sealed class QuicTestNode : IAsyncDisposable
{
    /// <summary>Short enough that a vanished peer is noticed quickly in tests, long enough for a loaded CI machine.</summary>
    public static QuicTransportOptions TestOptions() => new()
    {
        IdleTimeout = TimeSpan.FromSeconds(3),
        KeepAliveInterval = TimeSpan.FromMilliseconds(500),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public QuicTestNode(TransportCredentials credentials, QuicTransportOptions? options = null)
    {
        Transport = new QuicTransport(credentials, Metrics, Logger, options ?? TestOptions());
    }

    public QuicTransport Transport { get; }

    public TransportMetrics Metrics { get; } = new();

    public RecordingLogger Logger { get; } = new();

    public ITransportListener? Listener { get; private set; }

    public EndPoint EndPoint => Listener?.LocalEndPoint ?? throw new InvalidOperationException("Not listening.");

    public async Task<QuicTestNode> ListenAsync()
    {
        Listener = await Transport.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), CancellationToken.None);
        return this;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; false if it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        for (int i = 0; i < 10_000 && !deadline.IsCancellationRequested; i++)
        {
            if (condition())
            {
                return true;
            }

            try
            {
                await Task.Delay(20, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        if (Listener is not null)
        {
            await Listener.DisposeAsync();
        }

        await Transport.DisposeAsync();
        Metrics.Dispose();
    }
}
