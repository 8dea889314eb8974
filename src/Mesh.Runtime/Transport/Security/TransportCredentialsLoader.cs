using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Security;

/// <summary>
/// Turns <see cref="MeshTlsOptions"/> (configuration section <c>Mesh:Tls</c>) into the <see cref="TransportCredentials"/>
/// QUIC and TCP present and check: the node certificate from a PFX or PEM file (key in the same PEM or in its own file,
/// optionally password-protected), the cluster CAs from a PEM file, and pinned thumbprints. Without a certificate path it
/// uses the development certificates of <see cref="DevelopmentCertificates"/>. Every failure is a
/// <see cref="TransportException"/> whose message names the option to fix.
/// </summary>
internal static class TransportCredentialsLoader
{
    private const string Section = "Mesh:Tls:";

    /// <summary>Loads the credentials <paramref name="options"/> describe.</summary>
    /// <param name="options">The TLS options.</param>
    /// <param name="logger">Where to say which certificate is used.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="TransportException">A file is missing or unreadable, has no private key, is expired, or no peer
    /// would be trusted.</exception>
    public static TransportCredentials Load(MeshTlsOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        if (options.CertificatePath is null)
        {
            if (string.IsNullOrWhiteSpace(options.DevelopmentCertificateFolder))
            {
                throw new TransportException($"{Section}{nameof(MeshTlsOptions.DevelopmentCertificateFolder)} must name a folder when {Section}{nameof(MeshTlsOptions.CertificatePath)} is not set.");
            }

            return DevelopmentCertificates.LoadOrCreate(Path.GetFullPath(options.DevelopmentCertificateFolder), options.PinnedThumbprints, logger);
        }

        X509Certificate2 certificate = LoadNodeCertificate(options.CertificatePath, options.PrivateKeyPath, options.CertificatePassword);
        X509Certificate2Collection authorities = options.ClusterCaPath is null ? [] : LoadAuthorities(options.ClusterCaPath, Section + nameof(MeshTlsOptions.ClusterCaPath));
        if (authorities.Count == 0 && options.PinnedThumbprints.Count == 0)
        {
            throw new TransportException($"{Section}{nameof(MeshTlsOptions.CertificatePath)} is set but no peer would be accepted: set {Section}{nameof(MeshTlsOptions.ClusterCaPath)} or {Section}{nameof(MeshTlsOptions.PinnedThumbprints)}.");
        }

        X509Certificate2Collection intermediates = LoadIntermediates(options.CertificatePath, options.CertificatePassword, certificate);
        var credentials = new TransportCredentials(certificate, authorities, options.PinnedThumbprints, intermediates);
        SecurityLog.LoadedCertificates(logger, certificate.Subject, TransportCredentials.ThumbprintOf(certificate), certificate.NotAfter.ToUniversalTime(), authorities.Count, credentials.PinnedThumbprints.Count);
        return credentials;
    }

    /// <summary>Loads a node certificate with its private key from a PFX or PEM file.</summary>
    /// <param name="certificatePath">The PFX or PEM file (<c>Mesh:Tls:CertificatePath</c>).</param>
    /// <param name="privateKeyPath">The PEM key file when the certificate PEM does not hold the key.</param>
    /// <param name="password">The PFX password or the password of an encrypted PEM key.</param>
    /// <returns>The certificate, with its private key, valid now.</returns>
    public static X509Certificate2 LoadNodeCertificate(string certificatePath, string? privateKeyPath, string? password)
    {
        const string CertificateOption = Section + nameof(MeshTlsOptions.CertificatePath);
        byte[] content = ReadFile(certificatePath, CertificateOption);
        X509Certificate2 certificate = IsPem(content)
            ? LoadPem(certificatePath, Encoding.ASCII.GetString(content), privateKeyPath, password)
            : LoadPfx(certificatePath, content, password);

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new TransportException($"{CertificateOption} is '{certificatePath}', whose certificate has no private key: use a PFX with its key, a PEM with the key in the same file, or set {Section}{nameof(MeshTlsOptions.PrivateKeyPath)}.");
        }

        DateTime now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            string message = $"{CertificateOption} is '{certificatePath}', whose certificate '{certificate.Subject}' is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now: peers would refuse it.";
            certificate.Dispose();
            throw new TransportException(message);
        }

        return certificate;
    }

    /// <summary>
    /// The intermediate CA certificates in the node's certificate file: every certificate of the PEM or PFX other than
    /// <paramref name="leaf"/> and other than self-signed ones. A root is left out because peers have their own copy
    /// (the cluster CA) and would not trust one sent to them anyway.
    /// </summary>
    /// <param name="certificatePath">The PFX or PEM file the leaf came from (already read successfully once).</param>
    /// <param name="password">The PFX password, if any.</param>
    /// <param name="leaf">The node certificate itself.</param>
    /// <returns>The intermediates, in file order; empty when the file holds the leaf alone (or leaf and root).</returns>
    public static X509Certificate2Collection LoadIntermediates(string certificatePath, string? password, X509Certificate2 leaf)
    {
        const string CertificateOption = Section + nameof(MeshTlsOptions.CertificatePath);
        byte[] content = ReadFile(certificatePath, CertificateOption);
        var all = new X509Certificate2Collection();
        try
        {
            if (IsPem(content))
            {
                all.ImportFromPem(Encoding.ASCII.GetString(content));
            }
            else
            {
                all = X509CertificateLoader.LoadPkcs12Collection(content, password);
            }
        }
        catch (CryptographicException ex)
        {
            throw new TransportException($"{CertificateOption} is '{certificatePath}', whose certificate chain cannot be read: {ex.Message}", ex);
        }

        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in all)
        {
            bool selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
            if (selfSigned || certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                certificate.Dispose();
                continue;
            }

            intermediates.Add(certificate);
        }

        return intermediates;
    }

    /// <summary>Loads every certificate of a PEM file as trusted authorities.</summary>
    /// <param name="path">The PEM file.</param>
    /// <param name="option">The option that named it, for errors.</param>
    /// <returns>At least one certificate.</returns>
    public static X509Certificate2Collection LoadAuthorities(string path, string option)
    {
        byte[] content = ReadFile(path, option);
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPem(Encoding.ASCII.GetString(content));
        }
        catch (CryptographicException ex)
        {
            throw new TransportException($"{option} is '{path}', which is not a readable PEM file of CA certificates: {ex.Message}", ex);
        }

        if (authorities.Count == 0)
        {
            throw new TransportException($"{option} is '{path}', which contains no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }

        return authorities;
    }

    private static X509Certificate2 LoadPem(string certificatePath, string certificatePem, string? privateKeyPath, string? password)
    {
        const string KeyOption = Section + nameof(MeshTlsOptions.PrivateKeyPath);
        string keyPem = privateKeyPath is null ? certificatePem : Encoding.ASCII.GetString(ReadFile(privateKeyPath, KeyOption));
        string keySource = privateKeyPath is null
            ? $"{Section}{nameof(MeshTlsOptions.CertificatePath)} ('{certificatePath}')"
            : $"{KeyOption} ('{privateKeyPath}')";
        if (!keyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            throw new TransportException(privateKeyPath is null
                ? $"{keySource} holds no PEM private key: append the key to the file or set {KeyOption}."
                : $"{keySource} holds no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }

        bool encrypted = keyPem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (encrypted && string.IsNullOrEmpty(password))
        {
            throw new TransportException($"{keySource} holds an encrypted private key: set {Section}{nameof(MeshTlsOptions.CertificatePassword)}.");
        }

        X509Certificate2 loaded;
        try
        {
            loaded = encrypted
                ? X509Certificate2.CreateFromEncryptedPem(certificatePem, keyPem, password)
                : X509Certificate2.CreateFromPem(certificatePem, keyPem);
        }
        catch (CryptographicException ex)
        {
            throw new TransportException($"{Section}{nameof(MeshTlsOptions.CertificatePath)} ('{certificatePath}') and its key from {keySource} cannot be loaded together (a key that does not match the certificate, or a wrong {Section}{nameof(MeshTlsOptions.CertificatePassword)}?): {ex.Message}", ex);
        }

        if (!OperatingSystem.IsWindows())
        {
            return loaded;
        }

        // SChannel cannot use a key attached in memory; a PKCS#12 round trip gives it a key it can use.
        using (loaded)
        {
            return X509CertificateLoader.LoadPkcs12(loaded.Export(X509ContentType.Pkcs12), password: null);
        }
    }

    private static X509Certificate2 LoadPfx(string certificatePath, byte[] content, string? password)
    {
        try
        {
            return X509CertificateLoader.LoadPkcs12(content, password, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException ex)
        {
            throw new TransportException($"{Section}{nameof(MeshTlsOptions.CertificatePath)} is '{certificatePath}', which is neither PEM nor a PFX/PKCS#12 file that {Section}{nameof(MeshTlsOptions.CertificatePassword)} opens: {ex.Message}", ex);
        }
    }

    private static byte[] ReadFile(string path, string option)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            string why = ex is FileNotFoundException or DirectoryNotFoundException ? "which does not exist" : "which cannot be read: " + ex.Message;
            throw new TransportException($"{option} is '{path}', {why}.", ex);
        }
    }

    private static bool IsPem(byte[] content) => content.AsSpan().IndexOf("-----BEGIN "u8) >= 0;
}
