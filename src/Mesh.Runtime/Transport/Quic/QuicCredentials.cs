using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.Transport.Quic;

/// <summary>
/// Turns <see cref="TransportCredentials"/> into what the native library takes (PEM text and SHA-256 pins), and applies
/// the credentials' policy to the certificate a peer proved at the handshake.
/// </summary>
/// <remarks>
/// The native verifier accepts a peer whose certificate chains to a trusted CA (validity dates included) or whose leaf
/// is pinned; <see cref="TransportCredentials.TryValidatePeer"/> then runs on the leaf once more in managed code, which
/// refuses what only it checks (a pinned certificate outside its validity dates) and names the peer.
/// </remarks>
internal static class QuicCredentials
{
    private const int Sha256Length = 32;

    /// <summary>The endpoint settings for <paramref name="credentials"/>.</summary>
    /// <exception cref="ArgumentException">The node certificate's key is neither ECDSA nor RSA, or cannot be exported.</exception>
    public static QuicEndpointOptions CreateEndpointOptions(
        TransportCredentials credentials, QuicTransportOptions options, IPEndPoint bindEndPoint, bool acceptIncoming)
    {
        var endpoint = new QuicEndpointOptions
        {
            BindEndPoint = bindEndPoint,
            AcceptIncoming = acceptIncoming,
            CertificateChainPem = ChainPem(credentials),
            PrivateKeyPem = ExportPrivateKeyPem(credentials.Certificate),
            TrustedCaPem = AuthoritiesPem(credentials.TrustedAuthorities),
            ApplicationProtocol = TransportCredentials.ApplicationProtocol,
            IdleTimeout = options.IdleTimeout,
            KeepAliveInterval = options.KeepAliveInterval,
            MaxSendBatchBytes = options.MaxSendBatchBytes,
            MaxBidirectionalStreams = options.MaxStreamsPerConnection,
            SendWindowBytes = options.SendWindowBytes,
            ReceiveSpinTime = options.ReceiveSpinTime,
        };
        foreach (string pin in credentials.PinnedThumbprints)
        {
            // A pin that is not a SHA-256 in hex can never match; TransportCredentials ignores it the same way.
            if (pin.Length == Sha256Length * 2 && TryParseHex(pin, out byte[] digest))
            {
                endpoint.PinnedSha256.Add(digest);
            }
        }

        return endpoint;
    }

    /// <summary>Applies the credentials' policy to the chain (DER, leaf first, then the intermediates the peer sent) a
    /// peer proved.</summary>
    /// <returns><see langword="true"/> with the peer's identity, or <see langword="false"/> with the reason.</returns>
    public static bool TryValidatePeer(
        TransportCredentials credentials, IReadOnlyList<byte[]> chainDer, out PeerIdentity identity, out (string Kind, string Message) reason)
    {
        identity = default;
        if (chainDer.Count == 0 || chainDer[0].Length == 0)
        {
            return credentials.TryValidatePeer(null, null, out reason);
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            foreach (byte[] der in chainDer)
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(der));
            }
        }
        catch (CryptographicException ex)
        {
            DisposeAll(certificates);
            reason = ("untrusted_certificate", $"the peer's certificate chain cannot be read: {ex.Message}");
            return false;
        }

        try
        {
            X509Certificate2 leaf = certificates[0];
            var intermediates = new X509Certificate2Collection();
            for (int i = 1; i < certificates.Count; i++)
            {
                intermediates.Add(certificates[i]);
            }

            if (!credentials.TryValidatePeer(leaf, intermediates, out reason))
            {
                return false;
            }

            identity = new PeerIdentity(leaf.Subject, TransportCredentials.ThumbprintOf(leaf));
            return true;
        }
        finally
        {
            DisposeAll(certificates);
        }
    }

    /// <summary>The fixed metrics kind of a handshake the native library refused (or the peer refused).</summary>
    public static string RefusalKind(QuicTransportException refusal)
    {
        // Refused by the peer: the TLS alert it sent (RFC 8446, section 6.2).
        if (refusal is QuicHandshakeException { TlsAlert: { } alert })
        {
            return alert switch
            {
                116 => "no_certificate",
                120 => "wrong_protocol",
                45 => "expired_certificate",
                _ => "untrusted_certificate",
            };
        }

        // Refused here: rustls' description of what was wrong.
        string message = refusal.Message;
        if (message.Contains("no certificate", StringComparison.OrdinalIgnoreCase))
        {
            return "no_certificate";
        }

        if (message.Contains("expired", StringComparison.OrdinalIgnoreCase))
        {
            return "expired_certificate";
        }

        if (message.Contains("protocol", StringComparison.OrdinalIgnoreCase) || message.Contains("alpn", StringComparison.OrdinalIgnoreCase))
        {
            return "wrong_protocol";
        }

        return refusal is QuicHandshakeException ? "untrusted_certificate" : "handshake_failed";
    }

    /// <summary>The node's certificate and then its intermediates, PEM: what the native library presents.</summary>
    private static string ChainPem(TransportCredentials credentials)
    {
        var pem = new StringBuilder(credentials.Certificate.ExportCertificatePem()).AppendLine();
        foreach (X509Certificate2 intermediate in credentials.Intermediates)
        {
            pem.AppendLine(intermediate.ExportCertificatePem());
        }

        return pem.ToString();
    }

    private static void DisposeAll(X509Certificate2Collection certificates)
    {
        foreach (X509Certificate2 certificate in certificates)
        {
            certificate.Dispose();
        }
    }

    private static string ExportPrivateKeyPem(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey()
            ?? certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException($"The node certificate '{certificate.Subject}' has no ECDSA or RSA private key; QUIC supports those two.");
        byte[] pkcs8 = key.ExportPkcs8PrivateKey();
        try
        {
            return PemEncoding.WriteString("PRIVATE KEY", pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static string AuthoritiesPem(X509Certificate2Collection authorities)
    {
        var pem = new StringBuilder();
        foreach (X509Certificate2 authority in authorities)
        {
            pem.AppendLine(authority.ExportCertificatePem());
        }

        return pem.ToString();
    }

    private static bool TryParseHex(string hex, out byte[] bytes)
    {
        try
        {
            bytes = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
