using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Transport;

/// <summary>
/// What a node proves and whom it trusts, for QUIC and TCP alike: its own certificate (with private key), the cluster
/// certificate authorities a peer's certificate may chain to, and thumbprints accepted without a chain.
/// </summary>
internal sealed class TransportCredentials
{
    /// <summary>The ALPN protocol name of this version of the Mesh protocol; a peer offering another is refused.</summary>
    public const string ApplicationProtocol = "mesh/1";

    /// <param name="certificate">This node's certificate, with its private key.</param>
    /// <param name="trustedAuthorities">The cluster CAs a peer's certificate may chain to.</param>
    /// <param name="pinnedThumbprints">SHA-256 thumbprints of peer certificates accepted without a chain.</param>
    /// <param name="intermediates">The intermediate CA certificates between <paramref name="certificate"/> and the cluster
    /// CA, sent with it at every handshake so that peers, which trust only the cluster CA, can build the chain.</param>
    public TransportCredentials(X509Certificate2 certificate, X509Certificate2Collection trustedAuthorities, IEnumerable<string> pinnedThumbprints, X509Certificate2Collection? intermediates = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(trustedAuthorities);
        ArgumentNullException.ThrowIfNull(pinnedThumbprints);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"The node certificate '{certificate.Subject}' has no private key.", nameof(certificate));
        }

        Certificate = certificate;
        Intermediates = intermediates ?? [];
        TrustedAuthorities = trustedAuthorities;
        PinnedThumbprints = new HashSet<string>(pinnedThumbprints.Select(Normalize), StringComparer.Ordinal);
    }

    /// <summary>Gets this node's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Gets the intermediate CA certificates presented after <see cref="Certificate"/> (leaf first, then these).</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>Gets the certificate authorities a peer's certificate may chain to.</summary>
    public X509Certificate2Collection TrustedAuthorities { get; }

    /// <summary>Gets the SHA-256 thumbprints (upper-case hex) of peer certificates accepted as they are.</summary>
    public IReadOnlySet<string> PinnedThumbprints { get; }

    /// <summary>The SHA-256 thumbprint of <paramref name="certificate"/>, upper-case hex.</summary>
    public static string ThumbprintOf(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>Decides whether a peer that presented <paramref name="certificate"/> may connect.</summary>
    /// <param name="certificate">The peer's leaf certificate, or <see langword="null"/> if it sent none.</param>
    /// <param name="extraChain">Intermediate certificates the peer sent, if any.</param>
    /// <param name="reason">When refused: a short fixed kind for metrics (<c>no_certificate</c>, <c>expired_certificate</c>,
    /// <c>untrusted_certificate</c>) and a message for the log.</param>
    /// <returns><see langword="true"/> when the certificate is valid now and chains to a trusted authority or is pinned.</returns>
    public bool TryValidatePeer(X509Certificate2? certificate, X509Certificate2Collection? extraChain, out (string Kind, string Message) reason)
    {
        if (certificate is null)
        {
            reason = ("no_certificate", "the peer presented no certificate; every node must present one issued by the cluster CA");
            return false;
        }

        DateTime now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            reason = ("expired_certificate", $"the peer's certificate '{certificate.Subject}' is valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now");
            return false;
        }

        string thumbprint = ThumbprintOf(certificate);
        if (PinnedThumbprints.Contains(thumbprint))
        {
            reason = default;
            return true;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(TrustedAuthorities);
        if (extraChain is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(extraChain);
        }

        if (TrustedAuthorities.Count > 0 && chain.Build(certificate))
        {
            reason = default;
            return true;
        }

        string status = string.Join("; ", chain.ChainStatus.Select(static s => s.StatusInformation.Trim()).Where(static s => s.Length > 0));
        reason = ("untrusted_certificate", $"the peer's certificate '{certificate.Subject}' (SHA-256 {thumbprint}) does not chain to the cluster CA and is not pinned{(status.Length > 0 ? ": " + status : string.Empty)}");
        return false;
    }

    private static string Normalize(string thumbprint) => thumbprint.Replace(":", string.Empty, StringComparison.Ordinal).Trim().ToUpperInvariant();
}
