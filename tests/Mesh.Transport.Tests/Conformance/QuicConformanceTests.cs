using System.Globalization;
using Mesh.Transport.Quic;
using Mesh.Transport.Tests.Quic;
using Mesh.Transport.Tests.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>The conformance suite over QUIC: node A listens, node B connects, both issued by the test cluster CA. The
/// short idle timeout of <see cref="QuicTestNode.TestOptions"/> bounds how long a killed peer goes unnoticed.</summary>
public sealed class QuicConformanceTests : TransportConformanceTests
{
    protected override string PeerTransportName => "quic";

    protected override ValueTask<TransportPair> CreatePairAsync()
    {
        var serverMetrics = new TransportMetrics();
        var clientMetrics = new TransportMetrics();
        return ValueTask.FromResult(new TransportPair(
            new QuicTransport(TestCertificates.Credentials(TestCertificates.NodeA), serverMetrics, NullLogger.Instance, QuicTestNode.TestOptions()),
            new QuicTransport(TestCertificates.Credentials(TestCertificates.NodeB), clientMetrics, NullLogger.Instance, QuicTestNode.TestOptions()),
            serverMetrics,
            clientMetrics));
    }

    /// <summary>The peer process presents node A and trusts the cluster CA, like the pair's server.</summary>
    protected override IEnumerable<string> GetPeerArguments(TransportPair pair)
    {
        TestCertificateFiles files = TestCertificates.Files(TestCertificates.NodeA);
        QuicTransportOptions options = QuicTestNode.TestOptions();
        return
        [
            "--cert", files.CertificatePemPath,
            "--key", files.KeyPemPath,
            "--ca", files.CaPemPath,
            "--idle-timeout-ms", ((int)options.IdleTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--keep-alive-ms", ((int)options.KeepAliveInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        ];
    }
}
