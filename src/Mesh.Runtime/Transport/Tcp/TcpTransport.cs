using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Tcp;

/// <summary>
/// The fallback transport: one TCP connection per <see cref="ConnectAsync"/>, TLS 1.3 with both sides authenticated by
/// <see cref="TransportCredentials"/> and ALPN <see cref="TransportCredentials.ApplicationProtocol"/>, exposed as pipes.
/// </summary>
/// <remarks>
/// The handshake, from either side: TLS 1.3 with a certificate on both sides, each checked by
/// <see cref="TransportCredentials.TryValidatePeer"/>; then the server sends one byte, <see cref="AcceptedMarker"/>. In
/// TLS 1.3 the client finishes its handshake before the server has checked the client's certificate, so without that
/// byte a refused client would only learn of the refusal at its first read; with it, <see cref="ConnectAsync"/> fails
/// with the reason instead of returning a dead connection.
/// </remarks>
internal sealed class TcpTransport : ITransport
{
    /// <summary>The transport's name, as configuration and metrics spell it.</summary>
    public const string TransportName = "tcp";

    /// <summary>The byte the server sends once it has accepted the client.</summary>
    internal const byte AcceptedMarker = 0x4D; // 'M'

    private readonly TransportCredentials _credentials;
    private readonly ILogger _logger;
    private readonly SslStreamCertificateContext _certificateContext;
    private int _openSockets;

    public TcpTransport(TransportCredentials credentials, TransportMetrics metrics, ILogger logger, TcpTransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _credentials = credentials;
        Metrics = metrics;
        _logger = logger;
        Options = options ?? new TcpTransportOptions();
        // The intermediates go out with the leaf: peers trust only the cluster CA, so they need them to build the chain.
        _certificateContext = SslStreamCertificateContext.Create(credentials.Certificate, additionalCertificates: credentials.Intermediates, offline: true);
    }

    public string Name => TransportName;

    internal TransportMetrics Metrics { get; }

    internal TcpTransportOptions Options { get; }

    /// <summary>Gets the sockets this transport has opened or accepted and not yet closed (listening sockets excluded).</summary>
    internal int OpenSockets => Volatile.Read(ref _openSockets);

    public ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        cancellationToken.ThrowIfCancellationRequested();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(endPoint);
            socket.Listen(Options.ListenBacklog);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new TransportException($"Cannot listen for TCP connections on {endPoint}: {ex.Message}", ex);
        }

        var listener = new TcpTransportListener(this, socket, _logger);
        TcpLog.Listening(_logger, listener.LocalEndPoint);
        listener.Start();
        return new ValueTask<ITransportListener>(listener);
    }

    public async ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Socket socket = endPoint is DnsEndPoint
            ? new Socket(SocketType.Stream, ProtocolType.Tcp)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        SocketOpened();
        SslStream? ssl = null;
        var validator = new PeerValidator(_credentials);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.HandshakeTimeout);
        string stage = "connect";
        try
        {
            Configure(socket);
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
            stage = "handshake";
            ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = endPoint is DnsEndPoint dns ? dns.Host : string.Empty,
                EnabledSslProtocols = SslProtocols.Tls13,
                ApplicationProtocols = [new SslApplicationProtocol(Options.ApplicationProtocol)],
                ClientCertificateContext = Options.PresentClientCertificate ? _certificateContext : null,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = validator.Validate,
            };
            await ssl.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
            if (ssl.NegotiatedApplicationProtocol.ToString() != Options.ApplicationProtocol)
            {
                throw Refused(endPoint, "protocol_version", $"the node at {endPoint} did not agree to protocol {Options.ApplicationProtocol} (ALPN)", null);
            }

            // The server's verdict on our certificate (see the remarks of the class).
            stage = "acceptance";
            byte[] marker = new byte[1];
            int read = await ssl.ReadAsync(marker, timeout.Token).ConfigureAwait(false);
            if (read != 1 || marker[0] != AcceptedMarker)
            {
                throw Refused(endPoint, "refused_by_peer", Options.PresentClientCertificate
                    ? $"the node at {endPoint} closed the connection instead of accepting this node: it does not trust this node's certificate '{_credentials.Certificate.Subject}' (check that both nodes use the same cluster CA and that the certificate is valid now)"
                    : $"the node at {endPoint} closed the connection instead of accepting this node, which presented no certificate", null);
            }

            var connection = new TcpConnection(socket, ssl, Identify(ssl), this, Options, _logger);
            connection.Start();
            return connection;
        }
        catch (Exception ex) when (ex is not TransportException)
        {
            DisposeFailed(ssl, socket);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw ex switch
            {
                OperationCanceledException when stage == "connect" => Unreachable(endPoint, $"no answer within {Options.HandshakeTimeout.TotalSeconds:0.#} s", ex),
                OperationCanceledException => Refused(endPoint, "handshake_timeout", $"the TLS handshake with {endPoint} did not finish within {Options.HandshakeTimeout.TotalSeconds:0.#} s", ex),
                SocketException when stage == "connect" => Unreachable(endPoint, ex.Message, ex),
                _ when validator.Refusal is { } refusal => Refused(endPoint, refusal.Kind, $"the node at {endPoint} is not trusted: {refusal.Message}", ex),
                _ when Describes(ex, "no application protocol") => Refused(endPoint, "protocol_version", $"the node at {endPoint} refused protocol {Options.ApplicationProtocol} (ALPN): it runs another version of the Mesh protocol; run the same Mesh version on every node", ex),
                _ => Refused(endPoint, "refused_by_peer", $"the node at {endPoint} refused the TLS handshake ({Innermost(ex)}): check that it trusts this node's certificate '{_credentials.Certificate.Subject}' and runs protocol {Options.ApplicationProtocol}", ex),
            };
        }
        catch
        {
            DisposeFailed(ssl, socket);
            throw;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Server side of the handshake options; the validator is per connection.</summary>
    internal SslServerAuthenticationOptions ServerOptions(PeerValidator validator) => new()
    {
        ServerCertificateContext = _certificateContext,
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls13,
        ApplicationProtocols = [new SslApplicationProtocol(Options.ApplicationProtocol)],
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = validator.Validate,
    };

    internal PeerValidator CreateValidator() => new(_credentials);

    internal void Configure(Socket socket)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)Options.KeepAliveTime.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Options.KeepAliveInterval.TotalSeconds);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, Options.KeepAliveRetryCount);
    }

    internal void SocketOpened() => Interlocked.Increment(ref _openSockets);

    internal void SocketReleased() => Interlocked.Decrement(ref _openSockets);

    internal static PeerIdentity Identify(SslStream ssl)
    {
        var certificate = (X509Certificate2)ssl.RemoteCertificate!;
        return new PeerIdentity(certificate.Subject, TransportCredentials.ThumbprintOf(certificate));
    }

    /// <summary>Whether <paramref name="exception"/> or one of its inner exceptions mentions <paramref name="text"/>
    /// (the TLS stack reports a received alert only as text).</summary>
    internal static bool Describes(Exception exception, string text)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains(text, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    internal static string Innermost(Exception exception)
    {
        Exception e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }

    private TransportException Refused(EndPoint endPoint, string kind, string message, Exception? inner)
    {
        Metrics.HandshakeFailed(TransportName, kind);
        return new TransportException($"Cannot connect to {endPoint} over TCP: {message}.", inner);
    }

    private static TransportException Unreachable(EndPoint endPoint, string why, Exception inner)
        => new($"Cannot reach {endPoint} over TCP: {why}.", inner);

    private void DisposeFailed(SslStream? ssl, Socket socket)
    {
        ssl?.Dispose();
        socket.Dispose();
        SocketReleased();
    }
}
