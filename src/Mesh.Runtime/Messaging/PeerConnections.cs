using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Mesh.Runtime;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Microsoft.Extensions.Logging;

namespace Mesh.Messaging;

/// <summary>
/// The node's connections to its peers over one <see cref="ITransport"/>: it accepts inbound connections, keeps one
/// lazily opened outbound connection per peer endpoint, and hands every request and one-way message that arrives to
/// the <see cref="IClusterServiceHandler"/> registered for its first byte (<see cref="ClusterService"/>).
/// </summary>
/// <remarks>
/// <para>Outbound: the first call to an endpoint connects; concurrent first calls share that attempt. A failed attempt
/// makes calls to that endpoint fail at once with a <see cref="TransportException"/> for
/// <see cref="PeerConnectionsOptions.ReconnectBackoff"/>, then the next call tries again; a connection that closed is
/// replaced on the next call. The hot path (a call to a connected peer) is a dictionary read and allocates nothing.</para>
/// <para>Membership has the last word on a peer (<see cref="OnMemberChanged"/>): a peer declared down has its
/// connection aborted, because after a partition that connection may be one the peer has long forgotten (QUIC idle
/// timeouts need not end both sides at once); a peer seen up again is connected on the next call, without waiting out a
/// backoff or an attempt that began while it was unreachable.</para>
/// <para>Inbound: a request for a service nobody registered, or that its handler cannot read, gets an error answer and
/// is counted; the connection keeps serving.</para>
/// </remarks>
internal sealed class PeerConnections : IPeerNetwork, IFrameHandler, IAsyncDisposable
{
    private readonly ITransport _transport;
    private readonly FramedConnectionOptions _framing;
    private readonly PeerConnectionsOptions _options;
    private readonly TransportMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<FramedConnection, byte> _inbound = new();
    private readonly IClusterServiceHandler?[] _handlers = new IClusterServiceHandler?[256];
    private readonly CancellationTokenSource _stopping = new();
    private ITransportListener? _listener;
    private Task? _acceptLoop;
    private long _unknownService;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="PeerConnections"/> class.</summary>
    /// <param name="transport">The transport to listen and connect with; the caller disposes it after this.</param>
    /// <param name="framing">Limits of every connection (<see cref="FramedConnectionOptions.FromMeshOptions"/>).</param>
    /// <param name="options">Connect timeout and reconnect backoff; null for the defaults.</param>
    /// <param name="metrics">The transport counters.</param>
    /// <param name="logger">Where connection events go.</param>
    public PeerConnections(ITransport transport, FramedConnectionOptions framing, PeerConnectionsOptions? options, TransportMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(framing);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _transport = transport;
        _framing = framing;
        _options = options ?? new PeerConnectionsOptions();
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>Gets the address the node listens on, once <see cref="ListenAsync"/> returned.</summary>
    public EndPoint? LocalEndPoint => _listener?.LocalEndPoint;

    /// <summary>Gets how many requests and one-way messages named a service nobody registered.</summary>
    public long UnknownServiceMessages => Volatile.Read(ref _unknownService);

    /// <summary>Gets how many inbound connections are open.</summary>
    public int InboundConnections => _inbound.Count;

    /// <summary>Registers the handler of <paramref name="service"/>; register every service before listening.</summary>
    /// <exception cref="InvalidOperationException">A handler is registered for the service already.</exception>
    public void Register(ClusterService service, IClusterServiceHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Interlocked.CompareExchange(ref _handlers[(byte)service], handler, null) is not null)
        {
            throw new InvalidOperationException($"A handler for the cluster service {service} is registered already.");
        }
    }

    /// <summary>Starts accepting peers on <paramref name="endPoint"/>.</summary>
    /// <returns>The bound address (with the actual port when port 0 was asked for).</returns>
    public async Task<EndPoint> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_listener is not null)
        {
            throw new InvalidOperationException("The node listens already.");
        }

        _listener = await _transport.ListenAsync(endPoint, cancellationToken).ConfigureAwait(false);
        _acceptLoop = AcceptLoopAsync(_listener);
        MessagingLog.Listening(_logger, _listener.LocalEndPoint.ToString() ?? string.Empty, _transport.Name);
        return _listener.LocalEndPoint;
    }

    /// <inheritdoc/>
    public ValueTask<FramePayload> RequestAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Peer peer = GetPeer(endpoint);
        FramedConnection? connection = peer.Current;
        if (connection is not null)
        {
            return connection.RequestAsync([(byte)service], payload.Span, timeout, cancellationToken);
        }

        return RequestAfterConnectAsync(peer, service, payload, timeout, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask SendOneWayAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Peer peer = GetPeer(endpoint);
        FramedConnection? connection = peer.Current;
        if (connection is not null)
        {
            return connection.SendOneWayAsync([(byte)service], payload.Span, cancellationToken);
        }

        return SendAfterConnectAsync(peer, service, payload, cancellationToken);
    }

    /// <inheritdoc/>
    public void OnMemberChanged(string endpoint, MembershipChangeKind kind)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!_peers.TryGetValue(endpoint, out Peer? peer))
        {
            return;
        }

        switch (kind)
        {
            case MembershipChangeKind.Down:
                // Calls waiting on it fail now (NodeUnreachableException) instead of at their timeout; the next call
                // to the endpoint connects afresh.
                if (peer.Current is { } connection)
                {
                    MessagingLog.DroppingConnection(_logger, endpoint);
                    connection.Abort("membership declared the peer down");
                }

                break;
            case MembershipChangeKind.Up or MembershipChangeKind.Alive:
                lock (peer)
                {
                    if (peer.LastFailure is null && peer.Attempt is null)
                    {
                        return;
                    }

                    // What failed or began while the peer was unreachable says nothing about it now.
                    peer.LastFailure = null;
                    peer.RetryAfter = 0;
                    if (peer.Attempt is not null)
                    {
                        // Callers already waiting keep that attempt; the next caller starts a new one.
                        peer.Attempt = null;
                        peer.Generation++;
                    }
                }

                break;
        }
    }

    /// <summary>Stops accepting, closes every connection (gracefully, then by abort after
    /// <see cref="FramedConnectionOptions.CloseTimeout"/>); calls still waiting fail.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        var closing = new List<Task>();
        foreach (Peer peer in _peers.Values)
        {
            if (peer.Connection is { } outbound)
            {
                closing.Add(CloseAsync(outbound));
            }
        }

        foreach (FramedConnection inbound in _inbound.Keys)
        {
            closing.Add(CloseAsync(inbound));
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
        _stopping.Dispose();
    }

    ValueTask IFrameHandler.HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken)
    {
        IClusterServiceHandler handler = Find(connection, payload);
        ReadOnlySequence<byte> message = payload.Slice(1);
        if (handler is IDeferredClusterServiceHandler deferred)
        {
            deferred.HandleRequest(message, connection.Defer(response), connection.Peer);
            return default;
        }

        return handler.HandleRequestAsync(message, response, connection.Peer, cancellationToken);
    }

    ValueTask IFrameHandler.HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) =>
        Find(connection, payload).HandleOneWayAsync(payload.Slice(1), connection.Peer, cancellationToken);

    private static async Task CloseAsync(FramedConnection connection)
    {
        await connection.CloseAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task CloseSpareAsync(FramedConnection connection)
    {
        try
        {
            await CloseAsync(connection).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Closing a connection nobody uses can only fail with the connection; nothing waits for it.
            MessagingLog.SpareCloseFailed(_logger, exception);
        }
    }

    private static EndPoint ParseEndpoint(string endpoint)
    {
        (string host, int port) = HostPort.Parse(endpoint, nameof(endpoint), allowPortZero: false);
        return IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
    }

    private IClusterServiceHandler Find(FramedConnection connection, ReadOnlySequence<byte> payload)
    {
        byte service = payload.IsEmpty ? (byte)0 : payload.FirstSpan[0];
        IClusterServiceHandler? handler = _handlers[service];
        if (handler is null)
        {
            Interlocked.Increment(ref _unknownService);
            _metrics.Error(_transport.Name, "unknown_service");
            MessagingLog.UnknownService(_logger, connection.Peer.Subject, service);
            throw new MeshProtocolException(payload.IsEmpty
                ? "An empty cluster message names no service."
                : $"This node has no cluster service {service}: the sender runs another version of Mesh, or the service is not enabled here.");
        }

        return handler;
    }

    private Peer GetPeer(string endpoint) =>
        _peers.TryGetValue(endpoint, out Peer? peer) ? peer : _peers.GetOrAdd(endpoint, static key => new Peer(key));

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FramePayload> RequestAfterConnectAsync(Peer peer, ClusterService service, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long started = Environment.TickCount64;
        FramedConnection connection = await ConnectAsync(peer, timeout, cancellationToken).ConfigureAwait(false);
        TimeSpan remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
        if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
        {
            throw new TimeoutException($"Connecting to {peer.Endpoint} took the whole timeout of the request.");
        }

        return await connection.RequestAsync([(byte)service], payload.Span, remaining, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask SendAfterConnectAsync(Peer peer, ClusterService service, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        FramedConnection connection = await ConnectAsync(peer, _options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        await connection.SendOneWayAsync([(byte)service], payload.Span, cancellationToken).ConfigureAwait(false);
    }

    private async Task<FramedConnection> ConnectAsync(Peer peer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Task<FramedConnection> attempt;

        // Connecting is rare (first call, after a failure): a lock keeps the shared attempt simple.
        lock (peer)
        {
            if (peer.Current is { } open)
            {
                return open;
            }

            if (peer.Attempt is null)
            {
                if (Environment.TickCount64 < peer.RetryAfter)
                {
                    throw new PeerUnreachableException($"The peer at {peer.Endpoint} could not be reached recently ({peer.LastFailure?.Message}); the next attempt is in under {_options.ReconnectBackoff.TotalMilliseconds:0} ms.", peer.LastFailure);
                }

                peer.Generation++;
                peer.Attempt = ConnectCoreAsync(peer, peer.Generation);
            }

            attempt = peer.Attempt;
        }

        TimeSpan wait = timeout == Timeout.InfiniteTimeSpan || timeout > _options.ConnectTimeout ? _options.ConnectTimeout : timeout;
        try
        {
            return await attempt.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (wait == _options.ConnectTimeout && timeout != wait)
        {
            // The connection attempt's own limit, not the caller's: nothing was sent, and the caller has time left.
            throw new PeerUnreachableException($"Connecting to the peer at {peer.Endpoint} did not finish within {wait.TotalMilliseconds:0} ms.", null);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Connecting to the peer at {peer.Endpoint} did not finish within {wait.TotalMilliseconds:0} ms.");
        }
    }

    private async Task<FramedConnection> ConnectCoreAsync(Peer peer, long generation)
    {
        // Yield so the attempt is published under the lock before it can complete.
        await Task.Yield();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(_options.ConnectTimeout);
            ITransportConnection transport = await _transport.ConnectAsync(peer.Address, timeout.Token).ConfigureAwait(false);
            var connection = new FramedConnection(transport, _transport.Name, this, _framing, _metrics, _logger);
            connection.Start();
            FramedConnection? kept = null;
            FramedConnection? replaced = null;
            lock (peer)
            {
                if (peer.Generation == generation || peer.Current is null)
                {
                    replaced = peer.Connection;
                    peer.Connection = connection;
                    peer.LastFailure = null;
                }
                else
                {
                    // A newer attempt (started after the peer was seen up again) connected first: use its connection.
                    kept = peer.Current;
                }

                if (peer.Generation == generation)
                {
                    peer.Attempt = null;
                }
            }

            if (kept is not null)
            {
                // Its callers need not wait for the spare connection's graceful close.
                _ = CloseSpareAsync(connection);
                return kept;
            }

            if (replaced is not null)
            {
                await replaced.DisposeAsync().ConfigureAwait(false);
            }

            return connection;
        }
        catch (Exception exception)
        {
            Exception failure = exception is PeerUnreachableException ? exception
                : new PeerUnreachableException($"Connecting to the peer at {peer.Endpoint} failed: {exception.Message}", exception);
            lock (peer)
            {
                // A superseded attempt's failure is older news than the peer being seen up: it sets no backoff.
                if (peer.Generation == generation)
                {
                    peer.LastFailure = failure;
                    peer.RetryAfter = Environment.TickCount64 + (long)_options.ReconnectBackoff.TotalMilliseconds;
                    peer.Attempt = null;
                }
            }

            MessagingLog.ConnectFailed(_logger, peer.Endpoint, _options.ReconnectBackoff, failure);
            throw failure;
        }
    }

    private async Task AcceptLoopAsync(ITransportListener listener)
    {
        try
        {
            while (true)
            {
                ITransportConnection? transport = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                if (transport is null)
                {
                    return;
                }

                var connection = new FramedConnection(transport, _transport.Name, this, _framing, _metrics, _logger);
                _inbound.TryAdd(connection, 0);
                connection.Start();
                _ = ForgetWhenClosedAsync(connection);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception exception)
        {
            MessagingLog.AcceptFailed(_logger, exception);
        }
    }

    private async Task ForgetWhenClosedAsync(FramedConnection connection)
    {
        await connection.Completion.ConfigureAwait(false);
        _inbound.TryRemove(connection, out _);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>One remote endpoint: its open connection and the attempt to open one. Fields other than
    /// <see cref="Connection"/> are guarded by locking the instance.</summary>
    private sealed class Peer(string endpoint)
    {
        public string Endpoint { get; } = endpoint;

        public EndPoint Address { get; } = ParseEndpoint(endpoint);

        /// <summary>Gets or sets the last connection opened; read without the lock on the call path.</summary>
        public FramedConnection? Connection
        {
            get => Volatile.Read(ref field);
            set => Volatile.Write(ref field, value);
        }

        /// <summary>Gets the connection if it takes new requests.</summary>
        public FramedConnection? Current => Connection is { IsOpen: true } open ? open : null;

        public Task<FramedConnection>? Attempt { get; set; }

        /// <summary>Gets or sets the number of the newest attempt; raised when an attempt starts and when one in flight
        /// is set aside because the peer was seen up again.</summary>
        public long Generation { get; set; }

        public long RetryAfter { get; set; }

        public Exception? LastFailure { get; set; }
    }
}
