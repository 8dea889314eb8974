using System.Security.Cryptography.X509Certificates;
using Xunit;

namespace Mesh.Transport.Tests.Security;

public sealed class TestCertificatesTests
{
    [Fact]
    public void NodeCertificatesChainToTheClusterCaAndTheOthersAreRefusedForTheirOwnReason()
    {
        TransportCredentials credentials = TestCertificates.Credentials(TestCertificates.NodeA);

        Assert.True(credentials.TryValidatePeer(TestCertificates.NodeB, null, out _));
        Assert.False(credentials.TryValidatePeer(TestCertificates.OtherCaNode, null, out var other));
        Assert.Equal("untrusted_certificate", other.Kind);
        Assert.False(credentials.TryValidatePeer(TestCertificates.ExpiredNode, null, out var expired));
        Assert.Equal("expired_certificate", expired.Kind);
        Assert.True(TestCertificates.NodeA.HasPrivateKey);
    }

    [Fact]
    public void FilesHoldTheSameCertificateAsPemAndPfx()
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeB);

        using X509Certificate2 fromPem = X509Certificate2.CreateFromPemFile(files.PemPath);
        using X509Certificate2 fromSplitPem = X509Certificate2.CreateFromPemFile(files.CertificatePemPath, files.KeyPemPath);
        using X509Certificate2 fromPfx = X509CertificateLoader.LoadPkcs12FromFile(files.PfxPath, files.PfxPassword);
        using X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(files.CaPemPath);

        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(fromPem));
        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(fromSplitPem));
        Assert.Equal(files.Thumbprint, TransportCredentials.ThumbprintOf(fromPfx));
        Assert.True(fromPem.HasPrivateKey && fromSplitPem.HasPrivateKey && fromPfx.HasPrivateKey);
        Assert.Equal(TestCertificates.ClusterCa.Thumbprint, ca.Thumbprint);
        Assert.Same(files, TestCertificates.Files(TestCertificates.NodeB));
    }
}
