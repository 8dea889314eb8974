using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Mesh.Transport.Tests.Security;

/// <summary>
/// Certificates for transport tests, made in memory once per test run (key generation and signing are slow enough to
/// matter when every test needs a pair of nodes): a cluster CA with two node certificates, an unrelated CA with its own
/// node certificate, and an expired node certificate from the cluster CA. Every node certificate names
/// <c>127.0.0.1</c> and <c>localhost</c> and may act as TLS server and client, as a node does both.
/// </summary>
internal static class TestCertificates
{
    private static readonly Lazy<TestCertificateSet> LazySet = new(TestCertificateSet.Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Gets the certificates of this test run.</summary>
    public static TestCertificateSet Set => LazySet.Value;

    /// <summary>Gets the cluster CA (with its private key).</summary>
    public static X509Certificate2 ClusterCa => Set.ClusterCa;

    /// <summary>Gets the first node certificate issued by <see cref="ClusterCa"/>.</summary>
    public static X509Certificate2 NodeA => Set.NodeA;

    /// <summary>Gets the second node certificate issued by <see cref="ClusterCa"/>.</summary>
    public static X509Certificate2 NodeB => Set.NodeB;

    /// <summary>Gets a CA the cluster does not trust.</summary>
    public static X509Certificate2 OtherCa => Set.OtherCa;

    /// <summary>Gets a node certificate issued by <see cref="OtherCa"/>.</summary>
    public static X509Certificate2 OtherCaNode => Set.OtherCaNode;

    /// <summary>Gets a node certificate issued by <see cref="ClusterCa"/> whose validity ended yesterday.</summary>
    public static X509Certificate2 ExpiredNode => Set.ExpiredNode;

    /// <summary>Gets an intermediate CA issued by <see cref="ClusterCa"/>.</summary>
    public static X509Certificate2 IntermediateCa => Set.IntermediateCa;

    /// <summary>Gets a node certificate issued by <see cref="IntermediateCa"/>, so it chains to the cluster CA only
    /// through the intermediate.</summary>
    public static X509Certificate2 IntermediateNode => Set.IntermediateNode;

    /// <summary>Credentials that present <see cref="IntermediateNode"/> followed by <see cref="IntermediateCa"/> (unless
    /// <paramref name="sendIntermediate"/> is false) and trust the cluster CA.</summary>
    public static TransportCredentials IntermediateCredentials(bool sendIntermediate = true)
        => new(IntermediateNode, [ClusterCa], [], sendIntermediate ? [IntermediateCa] : null);

    /// <summary>Credentials that present <paramref name="node"/> and trust the cluster CA (and nothing else unless
    /// <paramref name="pinnedThumbprints"/> are given).</summary>
    public static TransportCredentials Credentials(X509Certificate2 node, params string[] pinnedThumbprints)
        => new(node, [ClusterCa], pinnedThumbprints);

    /// <summary>Credentials that present <paramref name="node"/> and trust only <paramref name="trusted"/> authorities
    /// and <paramref name="pinnedThumbprints"/>.</summary>
    public static TransportCredentials Credentials(X509Certificate2 node, X509Certificate2[] trusted, params string[] pinnedThumbprints)
        => new(node, [.. trusted], pinnedThumbprints);

    /// <summary>Writes <paramref name="node"/> and the CA that issued it as files, for a peer in another process or a
    /// loader test. Files of the same certificate are written once per test run and shared.</summary>
    public static TestCertificateFiles Files(X509Certificate2 node) => Set.Files(node);
}

/// <summary>The files of one node certificate (see <see cref="TestCertificates.Files"/>).</summary>
/// <param name="Folder">The folder holding them (deleted when the test process exits).</param>
/// <param name="PemPath">Certificate chain (leaf first, then its CA) followed by the PKCS#8 private key, all PEM.</param>
/// <param name="CertificatePemPath">The certificate chain alone, PEM.</param>
/// <param name="KeyPemPath">The PKCS#8 private key alone, PEM, unencrypted.</param>
/// <param name="PfxPath">PKCS#12 with the certificate, its key and its CA, protected by <paramref name="PfxPassword"/>.</param>
/// <param name="PfxPassword">The password of <paramref name="PfxPath"/>.</param>
/// <param name="CaPemPath">The issuing CA's certificate, PEM (what a peer trusts).</param>
/// <param name="Thumbprint">The SHA-256 thumbprint of the node certificate, upper-case hex.</param>
internal sealed record TestCertificateFiles(
    string Folder,
    string PemPath,
    string CertificatePemPath,
    string KeyPemPath,
    string PfxPath,
    string PfxPassword,
    string CaPemPath,
    string Thumbprint);

/// <summary>One generated set of test certificates; see <see cref="TestCertificates"/>.</summary>
internal sealed class TestCertificateSet
{
    /// <summary>The password of every PFX file the set writes.</summary>
    public const string PfxPassword = "mesh-test";

    private readonly Dictionary<string, TestCertificateFiles> _files = new(StringComparer.Ordinal);
    private readonly Lock _filesLock = new();
    private readonly string _folder;

    private TestCertificateSet(X509Certificate2 clusterCa, X509Certificate2 nodeA, X509Certificate2 nodeB, X509Certificate2 otherCa, X509Certificate2 otherCaNode, X509Certificate2 expiredNode, X509Certificate2 intermediateCa, X509Certificate2 intermediateNode)
    {
        IntermediateCa = intermediateCa;
        IntermediateNode = intermediateNode;
        ClusterCa = clusterCa;
        NodeA = nodeA;
        NodeB = nodeB;
        OtherCa = otherCa;
        OtherCaNode = otherCaNode;
        ExpiredNode = expiredNode;
        _folder = Path.Combine(Path.GetTempPath(), "mesh-test-certs-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteFolder();
    }

    public X509Certificate2 ClusterCa { get; }

    public X509Certificate2 NodeA { get; }

    public X509Certificate2 NodeB { get; }

    public X509Certificate2 OtherCa { get; }

    public X509Certificate2 OtherCaNode { get; }

    public X509Certificate2 ExpiredNode { get; }

    public X509Certificate2 IntermediateCa { get; }

    public X509Certificate2 IntermediateNode { get; }

    /// <summary>Creates a fresh set (slow: prefer <see cref="TestCertificates.Set"/>).</summary>
    public static TestCertificateSet Create()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        // The cluster CA may sign one level of intermediates; the other CA signs node certificates only.
        X509Certificate2 clusterCa = CreateAuthority("CN=Mesh Test Cluster CA", now, issuer: null, pathLength: 1);
        X509Certificate2 otherCa = CreateAuthority("CN=Mesh Test Other CA", now, issuer: null, pathLength: 0);
        X509Certificate2 intermediateCa = CreateAuthority("CN=Mesh Test Intermediate CA", now, issuer: clusterCa, pathLength: 0);
        return new TestCertificateSet(
            clusterCa,
            CreateNode("CN=mesh-test-node-a", clusterCa, now.AddDays(-1), now.AddYears(1)),
            CreateNode("CN=mesh-test-node-b", clusterCa, now.AddDays(-1), now.AddYears(1)),
            otherCa,
            CreateNode("CN=mesh-test-other-node", otherCa, now.AddDays(-1), now.AddYears(1)),
            CreateNode("CN=mesh-test-expired-node", clusterCa, now.AddDays(-10), now.AddDays(-1)),
            intermediateCa,
            CreateNode("CN=mesh-test-intermediate-node", intermediateCa, now.AddDays(-1), now.AddYears(1)));
    }

    /// <summary>The CA that issued <paramref name="node"/> (one of this set's two authorities).</summary>
    public X509Certificate2 IssuerOf(X509Certificate2 node)
        => node.IssuerName.RawData.AsSpan().SequenceEqual(OtherCa.SubjectName.RawData) ? OtherCa : ClusterCa;

    /// <inheritdoc cref="TestCertificates.Files"/>
    public TestCertificateFiles Files(X509Certificate2 node)
    {
        ArgumentNullException.ThrowIfNull(node);
        string thumbprint = TransportCredentials.ThumbprintOf(node);
        lock (_filesLock)
        {
            if (_files.TryGetValue(thumbprint, out TestCertificateFiles? existing))
            {
                return existing;
            }

            Directory.CreateDirectory(_folder);
            X509Certificate2 issuer = IssuerOf(node);
            string name = node.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            string chainPem = node.ExportCertificatePem() + "\n" + issuer.ExportCertificatePem() + "\n";
            string keyPem = ExportKeyPem(node);

            var files = new TestCertificateFiles(
                _folder,
                PemPath: Path.Combine(_folder, name + ".pem"),
                CertificatePemPath: Path.Combine(_folder, name + ".crt.pem"),
                KeyPemPath: Path.Combine(_folder, name + ".key.pem"),
                PfxPath: Path.Combine(_folder, name + ".pfx"),
                PfxPassword: PfxPassword,
                CaPemPath: Path.Combine(_folder, issuer.GetNameInfo(X509NameType.SimpleName, forIssuer: false).Replace(' ', '-') + ".ca.pem"),
                Thumbprint: thumbprint);

            File.WriteAllText(files.PemPath, chainPem + keyPem, Encoding.ASCII);
            File.WriteAllText(files.CertificatePemPath, chainPem, Encoding.ASCII);
            File.WriteAllText(files.KeyPemPath, keyPem, Encoding.ASCII);
            File.WriteAllBytes(files.PfxPath, new X509Certificate2Collection { node, issuer }.Export(X509ContentType.Pfx, PfxPassword)!);
            File.WriteAllText(files.CaPemPath, issuer.ExportCertificatePem() + "\n", Encoding.ASCII);
            _files.Add(thumbprint, files);
            return files;
        }
    }

    private static string ExportKeyPem(X509Certificate2 certificate)
    {
        using ECDsa key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("Test certificates carry ECDSA keys.");
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    private static X509Certificate2 CreateAuthority(string subject, DateTimeOffset now, X509Certificate2? issuer, int pathLength)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509BasicConstraintsExtension.CreateForCertificateAuthority(pathLengthConstraint: pathLength));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        if (issuer is null)
        {
            using X509Certificate2 created = request.CreateSelfSigned(now.AddDays(-30), now.AddYears(10));
            return Reload(created);
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        byte[] serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F; // a positive serial number
        using X509Certificate2 signed = request.Create(issuer, now.AddDays(-20), now.AddYears(5), serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return Reload(withKey);
    }

    private static X509Certificate2 CreateNode(string subject, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(X509BasicConstraintsExtension.CreateForEndEntity());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication"), new Oid("1.3.6.1.5.5.7.3.2", "Client Authentication")],
            critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        byte[] serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F; // a positive serial number
        using X509Certificate2 signed = request.Create(issuer, notBefore, notAfter, serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return Reload(withKey);
    }

    // A round trip through PKCS#12 gives a certificate whose key every platform's TLS stack can use (an ephemeral key
    // attached with CopyWithPrivateKey is refused by SslStream on Windows).
    private static X509Certificate2 Reload(X509Certificate2 certificate)
        => X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null, X509KeyStorageFlags.Exportable);

    private void DeleteFolder()
    {
        try
        {
            if (Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a peer process may still hold a file open; the temp folder is cleaned by the OS eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
