using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tcp;

/// <summary>
/// Accepts TCP connections and runs each TLS handshake on its own, under <see cref="TcpTransportOptions.HandshakeTimeout"/>
/// and at most <see cref="TcpTransportOptions.MaxConcurrentHandshakes"/> at once. Only peers that pass it reach
/// <see cref="AcceptAsync"/>; the others are logged, counted and closed, and the listener goes on.
/// </summary>
internal sealed class TcpTransportListener : ITransportListener
{
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(100);
    private readonly TcpTransport _transport;
    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _handshakeSlots;
    private readonly Channel<TcpConnection> _accepted = Channel.CreateUnbounded<TcpConnection>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly TaskCompletionSource _handshakesDrained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight = 1; // the accept loop's own hold, released when it ends
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;

    public TcpTransportListener(TcpTransport transport, Socket socket, ILogger logger)
    {
        _transport = transport;
        _socket = socket;
        _logger = logger;
        _handshakeSlots = new SemaphoreSlim(transport.Options.MaxConcurrentHandshakes);
        LocalEndPoint = socket.LocalEndPoint!;
    }

    public EndPoint LocalEndPoint { get; }

    public void Start() => _acceptLoop = AcceptLoopAsync();

    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        while (await _accepted.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_accepted.Reader.TryRead(out TcpConnection? connection))
            {
                return connection;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await _handshakesDrained.Task.ConfigureAwait(false);
        _accepted.Writer.TryComplete();

        // Connections that passed the handshake but were never taken are the listener's to close.
        while (_accepted.Reader.TryRead(out TcpConnection? unclaimed))
        {
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
        _handshakeSlots.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        CancellationToken stopping = _stopping.Token;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await _handshakeSlots.WaitAsync(stopping).ConfigureAwait(false);
                Socket socket;
                try
                {
                    socket = await _socket.AcceptAsync(stopping).ConfigureAwait(false);
                }
                catch (SocketException ex) when (!stopping.IsCancellationRequested)
                {
                    // One failed accept (a peer that reset before we took it, or no file descriptor left for now)
                    // must not stop the listener; pause briefly when the process is out of resources.
                    _handshakeSlots.Release();
                    TcpLog.AcceptRetried(_logger, LocalEndPoint, ex.SocketErrorCode, ex);
                    if (ex.SocketErrorCode is not (SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Interrupted))
                    {
                        await Task.Delay(AcceptRetryDelay, stopping).ConfigureAwait(false);
                    }

                    continue;
                }
                catch
                {
                    _handshakeSlots.Release();
                    throw;
                }

                _transport.SocketOpened();
                Interlocked.Increment(ref _inFlight);
                _ = HandshakeAsync(socket, stopping);
            }
        }
        catch (Exception ex) when (stopping.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Disposed: stop accepting.
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            TcpLog.AcceptFailed(_logger, LocalEndPoint, ex);
        }
        finally
        {
            if (!stopping.IsCancellationRequested)
            {
                // The listening socket failed: AcceptAsync ends (DisposeAsync completes it otherwise, after the
                // handshakes in flight).
                _accepted.Writer.TryComplete();
            }

            HandshakeEnded();
        }
    }

    private void HandshakeEnded()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            _handshakesDrained.TrySetResult();
        }
    }

    private async Task HandshakeAsync(Socket socket, CancellationToken stopping)
    {
        await Task.Yield();
        EndPoint? remote = null;
        SslStream? ssl = null;
        PeerValidator validator = _transport.CreateValidator();
        List<string>? offered = null;
        TcpConnection? connection = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(_transport.Options.HandshakeTimeout);
        try
        {
            remote = socket.RemoteEndPoint;
            _transport.Configure(socket);
            var network = new NetworkStream(socket, ownsSocket: false);
            byte[]? hello = await ClientHello.ReadFirstRecordAsync(network, timeout.Token).ConfigureAwait(false);
            if (hello is null)
            {
                Refuse(remote, "not_tls", "the peer did not start a TLS handshake");
                return;
            }

            string expected = _transport.Options.ApplicationProtocol;
            if (ClientHello.TryGetApplicationProtocols(hello, out List<string> protocols))
            {
                offered = protocols;
            }

            ssl = new SslStream(new ReplayStream(network, hello), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(_transport.ServerOptions(validator), timeout.Token).ConfigureAwait(false);
            if (!validator.Accepted)
            {
                Refuse(remote, validator.Refusal?.Kind ?? "no_certificate", validator.Refusal?.Message ?? "the peer presented no certificate");
                return;
            }

            if (ssl.NegotiatedApplicationProtocol.ToString() != expected)
            {
                Refuse(remote, "protocol_version", VersionMismatch(expected, offered));
                return;
            }

            await ssl.WriteAsync(new[] { TcpTransport.AcceptedMarker }, timeout.Token).ConfigureAwait(false);
            await ssl.FlushAsync(timeout.Token).ConfigureAwait(false);
            connection = new TcpConnection(socket, ssl, TcpTransport.Identify(ssl), _transport, _transport.Options, _logger);
            TcpLog.Accepted(_logger, remote, connection.Peer.Subject, connection.Peer.Thumbprint);
            connection.Start();
            if (!_accepted.Writer.TryWrite(connection))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The listener is closing.
        }
        catch (OperationCanceledException)
        {
            Refuse(remote, "handshake_timeout", $"no complete TLS handshake within {_transport.Options.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex)
        {
            // Any failure refuses this peer alone; the listener goes on.
            string expected = _transport.Options.ApplicationProtocol;
            if (validator.Refusal is { } refusal)
            {
                Refuse(remote, refusal.Kind, refusal.Message);
            }
            else if (offered is not null && !offered.Contains(expected))
            {
                Refuse(remote, "protocol_version", VersionMismatch(expected, offered));
            }
            else if (ex is EndOfStreamException || TcpTransport.Describes(ex, "alert"))
            {
                Refuse(remote, "refused_by_peer", $"the peer ended the handshake: {TcpTransport.Innermost(ex)} (it may not trust this node's certificate)");
            }
            else
            {
                Refuse(remote, "tls_error", $"the TLS handshake failed: {TcpTransport.Innermost(ex)}");
            }
        }
        finally
        {
            if (connection is null)
            {
                ssl?.Dispose();
                socket.Dispose();
                _transport.SocketReleased();
            }

            _handshakeSlots.Release();
            HandshakeEnded();
        }
    }

    private static string VersionMismatch(string expected, List<string>? offered)
        => offered is null || offered.Count == 0
            ? $"the peer offers no Mesh protocol version (ALPN), this node speaks {expected}"
            : $"the peer offers protocol {string.Join(", ", offered)}, this node speaks {expected}: run the same Mesh version on every node";

    private void Refuse(EndPoint? remote, string kind, string reason)
    {
        TcpLog.HandshakeRefused(_logger, remote, kind, reason);
        _transport.Metrics.HandshakeFailed(TcpTransport.TransportName, kind);
    }
}
