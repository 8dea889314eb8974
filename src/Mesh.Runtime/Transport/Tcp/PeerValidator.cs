using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Transport.Tcp;

/// <summary>
/// The certificate check of one TLS handshake: hands the peer's certificate to
/// <see cref="TransportCredentials.TryValidatePeer"/> (never the operating system's store, never the host name) and keeps
/// the reason of a refusal, which the TLS stack itself would reduce to an alert code.
/// </summary>
internal sealed class PeerValidator(TransportCredentials credentials)
{
    /// <summary>Gets the reason the peer's certificate was refused, if it was.</summary>
    public (string Kind, string Message)? Refusal { get; private set; }

    /// <summary>Gets a value indicating whether a certificate was checked and accepted.</summary>
    public bool Accepted { get; private set; }

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        X509Certificate2? peer = certificate as X509Certificate2;
        if (peer is null && certificate is not null)
        {
            peer = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        }

        // The chain the TLS stack built holds the intermediates the peer sent in its extra store.
        X509Certificate2Collection? extra = chain?.ChainPolicy.ExtraStore;
        if (credentials.TryValidatePeer(peer, extra, out (string Kind, string Message) reason))
        {
            Accepted = true;
            return true;
        }

        Refusal = reason;
        return false;
    }
}
