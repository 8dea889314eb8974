using System.Globalization;
using Mesh.Transport.Quic;
using Mesh.Transport.Security;
using Mesh.Transport.Tcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Transport.TestPeer;

/// <summary>The one place the test peer turns a transport name into a transport. Each out-of-process transport adds its
/// case here (with the options it needs, e.g. <c>--cert</c>, <c>--key</c>, <c>--ca</c> file paths). The in-memory
/// transport cannot be reached from another process, so it has no case.</summary>
internal static class PeerTransports
{
    public static ITransport? Create(string name, IReadOnlyDictionary<string, string> options, TransportMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        switch (name)
        {
            case "quic":
                // --cert <PEM or PFX> [--key <PEM key>] [--password <p>] --ca <CA PEM> [--idle-timeout-ms <n>] [--keep-alive-ms <n>].
                var quic = new QuicTransportOptions();
                if (options.TryGetValue("idle-timeout-ms", out string? idle))
                {
                    quic.IdleTimeout = TimeSpan.FromMilliseconds(int.Parse(idle, CultureInfo.InvariantCulture));
                }

                if (options.TryGetValue("keep-alive-ms", out string? keepAlive))
                {
                    quic.KeepAliveInterval = TimeSpan.FromMilliseconds(int.Parse(keepAlive, CultureInfo.InvariantCulture));
                }

                return new QuicTransport(LoadCredentials(options), metrics, NullLogger.Instance, quic);
            case "tcp":
                // --cert <PEM or PFX> [--key <PEM key>] [--password <p>] --ca <CA PEM>: read the way a node reads Mesh:Tls.
                return new TcpTransport(LoadCredentials(options), metrics, NullLogger.Instance);
            default:
                return null;
        }
    }

    private static TransportCredentials LoadCredentials(IReadOnlyDictionary<string, string> options)
    {
        var tls = new MeshTlsOptions
        {
            CertificatePath = options.GetValueOrDefault("cert"),
            PrivateKeyPath = options.GetValueOrDefault("key"),
            CertificatePassword = options.GetValueOrDefault("password"),
            ClusterCaPath = options.GetValueOrDefault("ca"),
        };
        return TransportCredentialsLoader.Load(tls, NullLogger.Instance);
    }
}
