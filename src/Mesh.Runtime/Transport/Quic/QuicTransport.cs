using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Mesh.Transport.Quic.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Quic;

/// <summary>
/// The QUIC transport: mutually authenticated TLS 1.3 over quinn (through <see cref="QuicEndpoint"/>). One QUIC
/// connection per remote node, shared by every <see cref="ConnectAsync"/> to it, each of which opens a new
/// bidirectional stream; the listener yields each stream a peer opens as one <see cref="ITransportConnection"/>.
/// </summary>
/// <remarks>
/// <para>A QUIC stream reaches the peer only with its first bytes, so every stream starts with one header byte
/// (<see cref="StreamHeader"/>) that the accepting side checks and strips: a stream is accepted as soon as it is
/// opened, not when it first carries data.</para>
/// <para>Peers are accepted when their certificate chains to a cluster CA or is pinned (checked by the native verifier
/// during the handshake, then by <see cref="TransportCredentials.TryValidatePeer"/> on the leaf). Every failed
/// handshake is logged and counted on each side that sees it. A peer that dies silently is detected by the QUIC idle
/// timeout (<see cref="QuicTransportOptions.IdleTimeout"/>, with keep-alives), which ends reads on all its streams.</para>
/// <para>Threads: <see cref="_peers"/> is a concurrent map whose values are shared connect attempts; a closed or
/// failed connection is removed with a compare-and-remove, so a concurrent caller that already holds a newer one keeps it.</para>
/// </remarks>
internal sealed class QuicTransport : ITransport
{
    /// <summary>The transport's name as <c>MeshOptions</c> spells it.</summary>
    public const string TransportName = "quic";

    /// <summary>The first byte of every stream: a Mesh stream, version 1.</summary>
    internal const byte StreamHeader = 0x01;

    /// <summary>The application error code of a connection this node closes because it refused the peer.</summary>
    /// <remarks>Far from QUIC's own transport error codes (below 0x200), so a close with it reads as a refusal.</remarks>
    internal const ulong RefusedErrorCode = 0x4D52;

    private readonly TransportCredentials _credentials;
    private readonly TransportMetrics _metrics;
    private readonly ILogger _logger;
    private readonly QuicTransportOptions _options;
    private readonly ConcurrentDictionary<IPEndPoint, Lazy<Task<PeerConnection>>> _peers = new();
    private readonly ConcurrentDictionary<QuicTransportListener, byte> _listeners = new();
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposing = new();
    private QuicEndpoint? _clientV4;
    private QuicEndpoint? _clientV6;
    private int _disposed;

    /// <summary>Creates the transport and loads the native library.</summary>
    /// <exception cref="DllNotFoundException">The native library (or one it needs) cannot be loaded.</exception>
    /// <exception cref="BadImageFormatException">The native library is not one for this platform.</exception>
    /// <exception cref="EntryPointNotFoundException">The native library lacks an export this assembly calls.</exception>
    /// <exception cref="QuicTransportException">The native library implements another ABI version.</exception>
    public QuicTransport(TransportCredentials credentials, TransportMetrics metrics, ILogger? logger = null, QuicTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(metrics);
        _credentials = credentials;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _options = options ?? new QuicTransportOptions();
        _options.Validate();
        QuicLibrary.Load(_options.NativeLibraryPath);
    }

    public string Name => TransportName;

    public ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        IPEndPoint bind = endPoint as IPEndPoint
            ?? throw new ArgumentException($"QUIC listens on an IP address and port, not '{endPoint}'.", nameof(endPoint));
        QuicEndpoint quic;
        try
        {
            quic = QuicEndpoint.Create(QuicCredentials.CreateEndpointOptions(_credentials, _options, bind, acceptIncoming: true));
        }
        catch (QuicTransportException ex)
        {
            throw new TransportException($"Cannot listen for QUIC on {bind}: {ex.Message}", ex);
        }

        var listener = new QuicTransportListener(this, quic, new IPEndPoint(bind.Address, quic.Port));
        _listeners[listener] = 0;
        QuicTransportLog.Listening(_logger, listener.LocalEndPoint);
        return new ValueTask<ITransportListener>(listener);
    }

    public async ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        IPEndPoint remote = await ResolveAsync(endPoint, cancellationToken).ConfigureAwait(false);

        // A shared connection found closed is replaced once; a second failure is the caller's.
        for (int attempt = 0; ; attempt++)
        {
            Lazy<Task<PeerConnection>> entry = _peers.GetOrAdd(
                remote, static (key, transport) => new Lazy<Task<PeerConnection>>(() => transport.ConnectCoreAsync(key)), this);
            PeerConnection peer;
            try
            {
                peer = await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (TransportException)
            {
                _peers.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>>(remote, entry));
                throw;
            }

            if (peer.Connection.Closed.IsCompletedSuccessfully && IsRefusal(peer.Connection.Closed.Result) is { } refused)
            {
                // The peer refused this node's certificate after the handshake finished here (TLS 1.3): a new
                // connection would be refused the same way, so report it rather than retrying.
                _peers.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>>(remote, entry));
                throw new TransportException(
                    $"{remote} refused this node at the QUIC handshake ({QuicCredentials.RefusalKind(refused)}): {refused.Message}", refused);
            }

            QuicStream? stream = null;
            try
            {
                if (!peer.Connection.Closed.IsCompleted)
                {
                    stream = peer.Connection.OpenStream();
                    await stream.SendAsync(peer.Header).ConfigureAwait(false);
                    return new QuicTransportConnection(stream, remote, peer.Identity, _options);
                }
            }
            catch (Exception ex) when (ex is QuicTransportException or ObjectDisposedException or InvalidOperationException)
            {
                stream?.Dispose();

                // A stream that fails on a connection that just finished its handshake is usually the peer refusing
                // this node's certificate (TLS 1.3 lets the client finish first); its close reason follows the failed
                // send closely. A refusal is reported, never retried: a new handshake would be refused the same way.
                QuicTransportException? refusal = await RefusalOfAsync(peer.Connection).ConfigureAwait(false);
                if (refusal is not null)
                {
                    _peers.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>>(remote, entry));
                    throw new TransportException(
                        $"{remote} refused this node at the QUIC handshake ({QuicCredentials.RefusalKind(refusal)}): {refusal.Message}", refusal);
                }

                if (attempt > 0)
                {
                    throw new TransportException($"Cannot open a QUIC stream to {remote}: {ex.Message}", ex);
                }
            }

            _peers.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>>(remote, entry));
            peer.Connection.Dispose();
            if (attempt > 0)
            {
                throw new TransportException($"The QUIC connection to {remote} closed while opening a stream.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (KeyValuePair<QuicTransportListener, byte> listener in _listeners)
        {
            await listener.Key.DisposeAsync().ConfigureAwait(false);
        }

        foreach (KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>> peer in _peers)
        {
            if (peer.Value.IsValueCreated && peer.Value.Value.IsCompletedSuccessfully)
            {
                peer.Value.Value.Result.Connection.Dispose();
            }
        }

        lock (_gate)
        {
            _clientV4?.Dispose();
            _clientV6?.Dispose();
        }

        _disposing.Dispose();
    }

    internal TransportCredentials Credentials => _credentials;

    /// <summary>Gets the UDP port this transport's IPv4 connections leave from; null before the first one.</summary>
    internal int? IPv4ClientPort
    {
        get
        {
            lock (_gate)
            {
                return _clientV4?.Port;
            }
        }
    }

    internal TransportMetrics Metrics => _metrics;

    internal ILogger Logger => _logger;

    internal QuicTransportOptions Options => _options;

    internal void OnListenerDisposed(QuicTransportListener listener) => _listeners.TryRemove(listener, out _);

    /// <summary>Counts and logs a handshake this node refused.</summary>
    internal void Refused(string kind, string reason)
    {
        _metrics.HandshakeFailed(TransportName, kind);
        QuicTransportLog.PeerRefused(_logger, kind, reason);
    }

    private async Task<PeerConnection> ConnectCoreAsync(IPEndPoint remote)
    {
        QuicEndpoint client = ClientEndpoint(remote.AddressFamily);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposing.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        QuicConnection connection;
        try
        {
            connection = await client.ConnectAsync(remote, _options.ServerName, timeout.Token).ConfigureAwait(false);
        }
        catch (QuicHandshakeException ex)
        {
            string kind = QuicCredentials.RefusalKind(ex);
            _metrics.HandshakeFailed(TransportName, kind);
            QuicTransportLog.RefusedByPeer(_logger, remote, kind, ex.Message);
            throw new TransportException($"The QUIC handshake with {remote} failed ({kind}): {ex.Message}", ex);
        }
        catch (QuicTransportException ex)
        {
            throw new TransportException($"Cannot reach {remote} over QUIC: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex)
        {
            throw new TransportException($"Connecting to {remote} over QUIC took longer than {_options.ConnectTimeout}.", ex);
        }

        PeerIdentity identity;
        try
        {
            if (!QuicCredentials.TryValidatePeer(_credentials, connection.PeerCertificateChain(), out identity, out (string Kind, string Message) reason))
            {
                Refused(reason.Kind, reason.Message);
                connection.Close(RefusedErrorCode, reason.Kind);
                throw new TransportException($"Refused {remote} ({reason.Kind}): {reason.Message}");
            }
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        _ = ObserveCloseAsync(remote, connection);
        return new PeerConnection(connection, identity);
    }

    /// <summary>Logs why a shared connection closed, counts a late refusal of this node's certificate (in TLS 1.3 the
    /// server checks it after the client has finished), and forgets the connection so the next connect makes a new one.</summary>
    private async Task ObserveCloseAsync(IPEndPoint remote, QuicConnection connection)
    {
        QuicTransportException reason = await connection.Closed.ConfigureAwait(false);
        if (IsRefusal(reason) is not null)
        {
            string kind = QuicCredentials.RefusalKind(reason);
            _metrics.HandshakeFailed(TransportName, kind);
            QuicTransportLog.RefusedByPeer(_logger, remote, kind, reason.Message);
        }
        else
        {
            QuicTransportLog.ConnectionClosed(_logger, remote, reason.Message);
        }

        if (_peers.TryGetValue(remote, out Lazy<Task<PeerConnection>>? entry)
            && entry.IsValueCreated
            && entry.Value.IsCompletedSuccessfully
            && ReferenceEquals(entry.Value.Result.Connection, connection))
        {
            _peers.TryRemove(new KeyValuePair<IPEndPoint, Lazy<Task<PeerConnection>>>(remote, entry));
        }

        connection.Dispose();
    }

    /// <summary>Waits briefly for <paramref name="connection"/> to close and returns its close reason if that is a
    /// refusal of this node.</summary>
    private async Task<QuicTransportException?> RefusalOfAsync(QuicConnection connection)
    {
        try
        {
            QuicTransportException reason = await connection.Closed.WaitAsync(_options.RefusalWait).ConfigureAwait(false);
            return IsRefusal(reason);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The close reason if it says the peer refused this node: a TLS failure, or a close with
    /// <see cref="RefusedErrorCode"/> after the peer's own checks (its reason text is the refusal kind).</summary>
    private static QuicTransportException? IsRefusal(QuicTransportException reason) =>
        reason is QuicHandshakeException || (reason is QuicConnectionException && reason.ErrorCode == RefusedErrorCode) ? reason : null;

    private QuicEndpoint ClientEndpoint(AddressFamily family)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            bool v6 = family == AddressFamily.InterNetworkV6;
            QuicEndpoint? existing = v6 ? _clientV6 : _clientV4;
            if (existing is not null)
            {
                return existing;
            }

            var bind = new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
            QuicEndpoint created;
            try
            {
                created = QuicEndpoint.Create(QuicCredentials.CreateEndpointOptions(_credentials, _options, bind, acceptIncoming: false));
            }
            catch (QuicTransportException ex)
            {
                throw new TransportException($"Cannot open a QUIC socket on {bind}: {ex.Message}", ex);
            }

            if (v6)
            {
                _clientV6 = created;
            }
            else
            {
                _clientV4 = created;
            }

            return created;
        }
    }

    private static async ValueTask<IPEndPoint> ResolveAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        switch (endPoint)
        {
            case IPEndPoint ip:
                return ip;
            case DnsEndPoint dns:
                IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken).ConfigureAwait(false);
                if (addresses.Length == 0)
                {
                    throw new TransportException($"'{dns.Host}' resolves to no address.");
                }

                return new IPEndPoint(addresses[0], dns.Port);
            default:
                throw new ArgumentException($"QUIC connects to an IP or DNS end point, not '{endPoint}'.", nameof(endPoint));
        }
    }

    /// <summary>An established, verified connection to one node.</summary>
    private sealed class PeerConnection(QuicConnection connection, PeerIdentity identity)
    {
        private static readonly byte[] s_header = [StreamHeader];

        public QuicConnection Connection { get; } = connection;

        public PeerIdentity Identity { get; } = identity;

        public ReadOnlyMemory<byte> Header => s_header;
    }
}
