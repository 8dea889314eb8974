using System.Net;
using System.Net.Sockets;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>Loopback ports free for both TCP and UDP (QUIC listens on UDP, its TCP fallback on TCP), never handed out
/// twice in one test run.</summary>
internal static class FreePorts
{
    /// <summary>Attempts before giving up: each takes an ephemeral port the kernel says is free.</summary>
    private const int Attempts = 200;

    private static readonly HashSet<int> s_given = [];

    /// <summary>Gets one free port.</summary>
    public static int Next() => Next(1)[0];

    /// <summary>Gets <paramref name="count"/> consecutive free ports (the demo listens on a base port and the next ones).</summary>
    public static int[] Next(int count)
    {
        lock (s_given)
        {
            for (int attempt = 0; attempt < Attempts; attempt++)
            {
                int first = EphemeralTcpPort();
                if (first + count > IPEndPoint.MaxPort)
                {
                    continue;
                }

                int[] ports = Enumerable.Range(first, count).ToArray();
                if (ports.All(static p => !s_given.Contains(p) && IsFree(p)))
                {
                    s_given.UnionWith(ports);
                    return ports;
                }
            }

            throw new InvalidOperationException($"Found no {count} consecutive loopback port(s) free for TCP and UDP in {Attempts} attempts.");
        }
    }

    private static int EphemeralTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var tcp = new TcpListener(IPAddress.Loopback, port);
            tcp.Start();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
