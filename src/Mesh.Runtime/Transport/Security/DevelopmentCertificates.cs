using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Security;

/// <summary>
/// Zero-configuration certificates for development: the first node started with no <c>Mesh:Tls:CertificatePath</c>
/// creates, in its development folder, a self-signed cluster CA and one node certificate issued by it; every later node
/// started from the same folder loads them, so local nodes trust each other and nothing else. The CA's private key is
/// not kept: nothing can issue further certificates from it. Files with a private key are readable by their owner only.
/// </summary>
/// <remarks>
/// Several processes may start at once on an empty folder. Creation happens under an exclusive lock on
/// <c>.lock</c> in the folder; whoever gets it second finds complete files and loads them. Each file is written to a
/// temporary name and renamed into place, so a crash never leaves a half-written file under a real name.
/// </remarks>
internal static class DevelopmentCertificates
{
    /// <summary>The development cluster CA certificate (PEM), what nodes trust.</summary>
    public const string CaFileName = "cluster-ca.pem";

    /// <summary>The node certificate, its CA and its PKCS#8 private key (PEM), owner-readable only.</summary>
    public const string NodePemFileName = "node.pem";

    /// <summary>The same node certificate, CA and key as PKCS#12 without password, owner-readable only.</summary>
    public const string NodePfxFileName = "node.pfx";

    private const string LockFileName = ".lock";
    private const string ReadmeFileName = "README.txt";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan LockRetryInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(1);

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Loads the development certificates from <paramref name="folder"/>, creating them first if it has none
    /// (or only unusable ones).</summary>
    /// <param name="folder">An absolute folder path.</param>
    /// <param name="pinnedThumbprints">Thumbprints also accepted (<c>Mesh:Tls:PinnedThumbprints</c>).</param>
    /// <param name="logger">Where to warn that development certificates are in use.</param>
    /// <returns>Credentials presenting the development node certificate and trusting the development CA.</returns>
    /// <exception cref="TransportException">The folder cannot be created or written, or its lock is held too long.</exception>
    public static TransportCredentials LoadOrCreate(string folder, IEnumerable<string> pinnedThumbprints, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(pinnedThumbprints);
        ArgumentNullException.ThrowIfNull(logger);

        // The usual case: a node that is not the first one reads complete files without taking the lock.
        if (!TryLoad(folder, out X509Certificate2? node, out X509Certificate2? ca, out string? reason))
        {
            try
            {
                CreateFolder(folder);
                using FileStream folderLock = AcquireLock(folder);

                // Whoever held the lock before us may have created them meanwhile.
                if (!TryLoad(folder, out node, out ca, out reason))
                {
                    if (File.Exists(Path.Combine(folder, NodePemFileName)) || File.Exists(Path.Combine(folder, CaFileName)))
                    {
                        SecurityLog.ReplacingDevelopmentCertificates(logger, folder, reason);
                    }

                    Create(folder);
                    if (!TryLoad(folder, out node, out ca, out reason))
                    {
                        throw new TransportException($"The development certificates just written to '{folder}' (Mesh:Tls:DevelopmentCertificateFolder) cannot be read back: {reason}.");
                    }

                    SecurityLog.CreatedDevelopmentCertificates(logger, folder, TransportCredentials.ThumbprintOf(ca), node.NotAfter.ToUniversalTime());
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new TransportException($"Mesh:Tls:DevelopmentCertificateFolder is '{folder}', where development certificates cannot be created: {ex.Message}", ex);
            }
        }

        SecurityLog.UsingDevelopmentCertificates(logger, folder, TransportCredentials.ThumbprintOf(ca));
        return new TransportCredentials(node, [ca], pinnedThumbprints);
    }

    private static bool TryLoad(string folder, [NotNullWhen(true)] out X509Certificate2? node, [NotNullWhen(true)] out X509Certificate2? ca, [NotNullWhen(false)] out string? reason)
    {
        node = null;
        ca = null;
        string nodePath = Path.Combine(folder, NodePemFileName);
        string caPath = Path.Combine(folder, CaFileName);
        if (!File.Exists(nodePath) || !File.Exists(caPath))
        {
            reason = $"{NodePemFileName} or {CaFileName} is missing";
            return false;
        }

        try
        {
            ca = TransportCredentialsLoader.LoadAuthorities(caPath, "Mesh:Tls:DevelopmentCertificateFolder")[0];
            node = TransportCredentialsLoader.LoadNodeCertificate(nodePath, privateKeyPath: null, password: null);
        }
        catch (TransportException ex)
        {
            ca?.Dispose();
            ca = null;
            reason = ex.Message;
            return false;
        }

        var self = new TransportCredentials(node, [ca], []);
        if (!self.TryValidatePeer(node, null, out var refusal))
        {
            reason = refusal.Message;
        }
        else if (node.NotAfter.ToUniversalTime() - DateTime.UtcNow < RenewBefore)
        {
            reason = $"the node certificate expires at {node.NotAfter.ToUniversalTime():u}";
        }
        else
        {
            reason = null;
            return true;
        }

        node.Dispose();
        ca.Dispose();
        node = null;
        ca = null;
        return false;
    }

    private static void CreateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
    }

    private static FileStream AcquireLock(string folder)
    {
        // FileShare.None is an exclusive advisory lock on Unix (flock) and a sharing violation on Windows; either way a
        // second opener fails at once, so wait and retry, within a bound. The file itself is never deleted: deleting it
        // would let two processes lock two different files of the same name.
        string path = Path.Combine(folder, LockFileName);
        long deadline = Environment.TickCount64 + (long)LockTimeout.TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                Thread.Sleep(LockRetryInterval);
            }
            catch (IOException ex)
            {
                throw new TransportException($"Another process has held '{path}' for more than {LockTimeout.TotalSeconds:0} s while creating development certificates; delete the lock file if no Mesh node is starting.", ex);
            }
        }
    }

    private static void Create(string folder)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Mesh Development Cluster CA, O=Mesh.Sdk development only", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(X509BasicConstraintsExtension.CreateForCertificateAuthority(pathLengthConstraint: 0));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));

        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var nodeRequest = new CertificateRequest("CN=mesh-development-node, O=Mesh.Sdk development only", nodeKey, HashAlgorithmName.SHA256);
        nodeRequest.CertificateExtensions.Add(X509BasicConstraintsExtension.CreateForEndEntity());
        nodeRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        nodeRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")],
            critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        nodeRequest.CertificateExtensions.Add(names.Build());
        nodeRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(nodeRequest.PublicKey, critical: false));
        nodeRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        byte[] serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using X509Certificate2 signed = nodeRequest.Create(ca, now.AddDays(-1), now.AddYears(2), serial);
        using X509Certificate2 node = signed.CopyWithPrivateKey(nodeKey);

        string caPem = ca.ExportCertificatePem() + "\n";
        string nodePem = node.ExportCertificatePem() + "\n" + caPem + nodeKey.ExportPkcs8PrivateKeyPem() + "\n";
        byte[] pfx = new X509Certificate2Collection { node, ca }.Export(X509ContentType.Pkcs12)!;

        // The node PEM is what TryLoad checks first, so it goes last: a reader never sees it beside an older CA file.
        WriteAtomically(folder, ReadmeFileName, Encoding.UTF8.GetBytes(Readme), ownerOnly: false);
        WriteAtomically(folder, CaFileName, Encoding.ASCII.GetBytes(caPem), ownerOnly: false);
        WriteAtomically(folder, NodePfxFileName, pfx, ownerOnly: true);
        WriteAtomically(folder, NodePemFileName, Encoding.ASCII.GetBytes(nodePem), ownerOnly: true);
    }

    private static void WriteAtomically(string folder, string name, byte[] content, bool ownerOnly)
    {
        string temporary = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path.Combine(folder, name), overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private const string Readme = """
        Mesh development certificates
        =============================

        A Mesh node started without Mesh:Tls:CertificatePath created this folder: a self-signed development cluster CA
        (cluster-ca.pem) and one node certificate issued by it (node.pem with its private key, node.pfx the same as
        PKCS#12). Every node started from this folder presents that certificate and trusts that CA, so local nodes
        trust each other with no configuration.

        FOR DEVELOPMENT ONLY: whoever can read node.pem can join the cluster. In production set Mesh:Tls:CertificatePath
        (and Mesh:Tls:PrivateKeyPath / Mesh:Tls:CertificatePassword as needed) and Mesh:Tls:ClusterCaPath or
        Mesh:Tls:PinnedThumbprints; see docs/transport.md. Deleting this folder makes the next node create a new CA.

        """;
}
