using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Mesh.Transport.Framing;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>A listening side for the tests: accepts connections and runs each as a <see cref="FramedConnection"/> with
/// the given handler, or hands the raw transport connections out when no handler is given.</summary>
internal sealed class FramedNode : IAsyncDisposable
{
    private readonly ITransport _transport;
    private readonly ITransportListener _listener;
    private readonly IFrameHandler? _handler;
    private readonly FramedConnectionOptions _options;
    private readonly TransportMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    private FramedNode(ITransport transport, ITransportListener listener, IFrameHandler? handler, FramedConnectionOptions options, TransportMetrics metrics, ILogger logger)
    {
        _transport = transport;
        _listener = listener;
        _handler = handler;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public EndPoint EndPoint => _listener.LocalEndPoint;

    private static readonly TimeSpan AcceptTimeout = TimeSpan.FromSeconds(30);
    private readonly ConcurrentQueue<FramedConnection> _connections = new();
    private readonly ConcurrentQueue<ITransportConnection> _rawConnections = new();
    private readonly Channel<FramedConnection> _accepted = Channel.CreateUnbounded<FramedConnection>();
    private readonly Channel<ITransportConnection> _acceptedRaw = Channel.CreateUnbounded<ITransportConnection>();

    public static async Task<FramedNode> StartAsync(ITransport transport, EndPoint endPoint, IFrameHandler? handler, FramedConnectionOptions options, TransportMetrics metrics, ILogger logger)
    {
        ITransportListener listener = await transport.ListenAsync(endPoint, CancellationToken.None);
        return new FramedNode(transport, listener, handler, options, metrics, logger);
    }

    /// <summary>Waits for the next accepted connection, framed with the node's handler.</summary>
    public async Task<FramedConnection> NextConnectionAsync() => await _accepted.Reader.ReadAsync().AsTask().WaitAsync(AcceptTimeout);

    /// <summary>Waits for the next accepted connection as the transport gives it (for a node started without handler).</summary>
    public async Task<ITransportConnection> NextRawConnectionAsync() => await _acceptedRaw.Reader.ReadAsync().AsTask().WaitAsync(AcceptTimeout);

    /// <summary>Resets every accepted connection from below the framing layer, as the death of the node's process would.</summary>
    public void AbortTransportConnections(string reason)
    {
        foreach (ITransportConnection connection in _rawConnections)
        {
            connection.Abort(reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _listener.DisposeAsync();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        foreach (FramedConnection connection in _connections)
        {
            await connection.DisposeAsync();
        }

        if (_handler is null)
        {
            foreach (ITransportConnection connection in _rawConnections)
            {
                await connection.DisposeAsync();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (await _listener.AcceptAsync(_stop.Token) is { } accepted)
        {
            if (_handler is not null)
            {
                var connection = new FramedConnection(accepted, _transport.Name, _handler, _options, _metrics, _logger);
                connection.Start();
                _connections.Enqueue(connection);
                _accepted.Writer.TryWrite(connection);
            }
            else
            {
                _acceptedRaw.Writer.TryWrite(accepted);
            }

            _rawConnections.Enqueue(accepted);
        }
    }
}
