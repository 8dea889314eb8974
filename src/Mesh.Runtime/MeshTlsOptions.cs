namespace Mesh;

/// <summary>
/// The credentials a node presents and the peers it accepts, on every transport (configuration section
/// <c>Mesh:Tls</c>). A peer is accepted only if its certificate chains to <see cref="ClusterCaPath"/> or its SHA-256
/// thumbprint is in <see cref="PinnedThumbprints"/>. With no <see cref="CertificatePath"/>, the node uses a development
/// cluster CA and node certificate it creates on first run in <see cref="DevelopmentCertificateFolder"/>.
/// </summary>
public sealed class MeshTlsOptions
{
    /// <summary>Gets or sets the node's certificate: a PFX/PKCS#12 file, or a PEM file (with its key in the same file or in
    /// <see cref="PrivateKeyPath"/>). Default: none, which selects the development certificates.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Gets or sets the PEM private key of a PEM <see cref="CertificatePath"/> that does not contain its key.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>Gets or sets the password of a PFX <see cref="CertificatePath"/>, or of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Gets or sets a PEM file with the cluster's certificate authorities; peers whose certificates chain to one of
    /// them are accepted.</summary>
    public string? ClusterCaPath { get; set; }

    /// <summary>Gets the SHA-256 thumbprints (hex, colons allowed) of peer certificates accepted without a chain
    /// (configuration: <c>Mesh:Tls:PinnedThumbprints:0</c>, ...).</summary>
    public IList<string> PinnedThumbprints { get; } = [];

    /// <summary>Gets or sets where development certificates are kept when <see cref="CertificatePath"/> is not set.
    /// Default: <c>.mesh/certs</c> under the current directory. Never use these certificates in production: anyone with
    /// the folder can join the cluster.</summary>
    public string DevelopmentCertificateFolder { get; set; } = Path.Combine(".mesh", "certs");
}
