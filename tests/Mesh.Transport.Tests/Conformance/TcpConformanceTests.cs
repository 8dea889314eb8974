using Mesh.Transport.Tcp;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>The conformance suite over TCP with mutual TLS 1.3: the server presents node A, the client node B, both
/// issued by the test cluster CA. The killable peer is tests/Mesh.Transport.TestPeer hosting TCP with node A's
/// certificate loaded from PEM files, as a node loads it from Mesh:Tls.</summary>
public sealed class TcpConformanceTests : TransportConformanceTests
{
    protected override string PeerTransportName => TcpTransport.TransportName;

    protected override ValueTask<TransportPair> CreatePairAsync()
    {
        var serverMetrics = new TransportMetrics();
        var clientMetrics = new TransportMetrics();
        return ValueTask.FromResult(new TransportPair(
            new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeA), serverMetrics, NullLogger.Instance),
            new TcpTransport(TestCertificates.Credentials(TestCertificates.NodeB), clientMetrics, NullLogger.Instance),
            serverMetrics,
            clientMetrics));
    }

    protected override IEnumerable<string> GetPeerArguments(TransportPair pair)
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        return ["--cert", files.CertificatePemPath, "--key", files.KeyPemPath, "--ca", files.CaPemPath];
    }
}
