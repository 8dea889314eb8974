using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Transport.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Mesh.Transport.Tests.Security;

public sealed class TransportCredentialsLoaderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mesh-loader-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void PemWithItsKeyInTheSameFileLoadsAndTrustsTheClusterCa()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        var options = new MeshTlsOptions { CertificatePath = files.PemPath, ClusterCaPath = files.CaPemPath };

        TransportCredentials credentials = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(credentials.Certificate));
        Assert.True(credentials.Certificate.HasPrivateKey);
        Assert.True(credentials.TryValidatePeer(TestCertificates.NodeB, null, out _));
        Assert.False(credentials.TryValidatePeer(TestCertificates.OtherCaNode, null, out _));
    }

    [Theory]
    [InlineData("pem")]
    [InlineData("pfx")]
    public void IntermediatesInTheCertificateFileArePresentedAndTheRootIsLeftOut(string format)
    {
        Directory.CreateDirectory(_folder);
        X509Certificate2 node = TestCertificates.IntermediateNode;
        string caPath = Path.Combine(_folder, "cluster-ca.pem");
        File.WriteAllText(caPath, TestCertificates.ClusterCa.ExportCertificatePem());
        string certificatePath = Path.Combine(_folder, "node." + format);
        if (format == "pem")
        {
            using ECDsa key = node.GetECDsaPrivateKey()!;
            File.WriteAllText(certificatePath, string.Join('\n', node.ExportCertificatePem(), TestCertificates.IntermediateCa.ExportCertificatePem(), TestCertificates.ClusterCa.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem()));
        }
        else
        {
            using X509Certificate2 intermediate = X509CertificateLoader.LoadCertificate(TestCertificates.IntermediateCa.RawData);
            using X509Certificate2 root = X509CertificateLoader.LoadCertificate(TestCertificates.ClusterCa.RawData);
            File.WriteAllBytes(certificatePath, new X509Certificate2Collection { node, intermediate, root }.Export(X509ContentType.Pfx, "secret")!);
        }

        TransportCredentials credentials = TransportCredentialsLoader.Load(
            new MeshTlsOptions { CertificatePath = certificatePath, CertificatePassword = format == "pfx" ? "secret" : null, ClusterCaPath = caPath },
            NullLogger.Instance);

        Assert.Equal(TransportCredentials.ThumbprintOf(node), TransportCredentials.ThumbprintOf(credentials.Certificate));
        Assert.True(credentials.Certificate.HasPrivateKey);
        X509Certificate2 presented = Assert.Single(credentials.Intermediates);
        Assert.Equal(TransportCredentials.ThumbprintOf(TestCertificates.IntermediateCa), TransportCredentials.ThumbprintOf(presented));
    }

    [Fact]
    public void PemWithASeparateKeyFileLoads()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        var options = new MeshTlsOptions { CertificatePath = files.CertificatePemPath, PrivateKeyPath = files.KeyPemPath, ClusterCaPath = files.CaPemPath };

        TransportCredentials credentials = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(credentials.Certificate));
        Assert.True(credentials.Certificate.HasPrivateKey);
    }

    [Fact]
    public void PemWithoutKeyAndNoKeyFileNamesThePrivateKeyOption()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        var options = new MeshTlsOptions { CertificatePath = files.CertificatePemPath, ClusterCaPath = files.CaPemPath };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:PrivateKeyPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PfxWithItsPasswordLoads()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeB);
        var options = new MeshTlsOptions { CertificatePath = files.PfxPath, CertificatePassword = files.PfxPassword, ClusterCaPath = files.CaPemPath };

        TransportCredentials credentials = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(credentials.Certificate));
        Assert.True(credentials.Certificate.HasPrivateKey);
    }

    [Fact]
    public void PfxWithAWrongPasswordNamesThePasswordOption()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeB);
        var options = new MeshTlsOptions { CertificatePath = files.PfxPath, CertificatePassword = "wrong", ClusterCaPath = files.CaPemPath };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:CertificatePassword", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingCertificateFileNamesTheOptionAndThePath()
    {
        string missing = Path.Combine(_folder, "absent.pem");
        var options = new MeshTlsOptions { CertificatePath = missing, ClusterCaPath = TestCertificates.Files(TestCertificates.NodeA).CaPemPath };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingClusterCaFileNamesTheOption()
    {
        string missing = Path.Combine(_folder, "absent-ca.pem");
        var options = new MeshTlsOptions { CertificatePath = TestCertificates.Files(TestCertificates.NodeA).PemPath, ClusterCaPath = missing };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:ClusterCaPath", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterCaFileMayHoldSeveralAuthorities()
    {
        Directory.CreateDirectory(_folder);
        string bundle = Path.Combine(_folder, "cas.pem");
        File.WriteAllText(bundle, TestCertificates.ClusterCa.ExportCertificatePem() + "\n" + TestCertificates.OtherCa.ExportCertificatePem() + "\n");
        var options = new MeshTlsOptions { CertificatePath = TestCertificates.Files(TestCertificates.NodeA).PemPath, ClusterCaPath = bundle };

        TransportCredentials credentials = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.Equal(2, credentials.TrustedAuthorities.Count);
        Assert.True(credentials.TryValidatePeer(TestCertificates.OtherCaNode, null, out _));
        Assert.True(credentials.TryValidatePeer(TestCertificates.NodeB, null, out _));
    }

    [Fact]
    public void ExpiredNodeCertificateIsRefusedAtLoad()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.ExpiredNode);
        var options = new MeshTlsOptions { CertificatePath = files.PemPath, ClusterCaPath = files.CaPemPath };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.Contains("not now", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PinnedThumbprintsAloneAreEnoughToTrust()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        var options = new MeshTlsOptions { CertificatePath = files.PemPath };
        string pinned = TransportCredentials.ThumbprintOf(TestCertificates.OtherCaNode);
        options.PinnedThumbprints.Add(string.Join(':', pinned.Chunk(2).Select(static c => new string(c))).ToLowerInvariant());

        TransportCredentials credentials = TransportCredentialsLoader.Load(options, NullLogger.Instance);

        Assert.Empty(credentials.TrustedAuthorities);
        Assert.True(credentials.TryValidatePeer(TestCertificates.OtherCaNode, null, out _));
        Assert.False(credentials.TryValidatePeer(TestCertificates.NodeB, null, out _));
    }

    [Fact]
    public void CertificateWithNeitherCaNorPinsIsRefusedNamingBothOptions()
    {
        var options = new MeshTlsOptions { CertificatePath = TestCertificates.Files(TestCertificates.NodeA).PemPath };

        var error = Assert.Throws<TransportException>(() => TransportCredentialsLoader.Load(options, NullLogger.Instance));

        Assert.Contains("Mesh:Tls:ClusterCaPath", error.Message, StringComparison.Ordinal);
        Assert.Contains("Mesh:Tls:PinnedThumbprints", error.Message, StringComparison.Ordinal);
    }
}
