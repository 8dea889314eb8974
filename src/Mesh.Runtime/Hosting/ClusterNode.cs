using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Mesh.Membership;
using Mesh.Messaging;
using Mesh.Runtime;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.Quic;
using Mesh.Transport.Security;
using Mesh.Transport.Tcp;
using Microsoft.Extensions.Logging;

namespace Mesh.Hosting;

/// <summary>
/// The cluster side of a node that listens (<see cref="MeshOptions.Endpoint"/>): its transport, its connections to the
/// other nodes with the services they answer (calls, membership, stats), and its membership. Started after the runtime
/// and stopped before it: leaving first moves this node's shards away, then the runtime drains what is still running.
/// </summary>
internal sealed class ClusterNode : IAsyncDisposable
{
    private readonly MeshRuntime _runtime;
    private readonly ITransport _transport;
    private readonly TransportMetrics _metrics;
    private readonly PeerConnections _peers;
    private readonly MembershipService _membership;

    private ClusterNode(MeshRuntime runtime, ITransport transport, TransportMetrics metrics, PeerConnections peers, MembershipService membership)
    {
        _runtime = runtime;
        _transport = transport;
        _metrics = metrics;
        _peers = peers;
        _membership = membership;
    }

    /// <summary>Gets the endpoint other nodes reach this one at.</summary>
    public string AdvertisedEndpoint => _membership.Current.Self.Endpoint ?? string.Empty;

    /// <summary>Listens, registers the cluster services, and joins the cluster through the seeds or DNS discovery.</summary>
    /// <param name="runtime">The node's runtime, started.</param>
    /// <param name="options">The node's options (validated).</param>
    /// <param name="loggerFactory">Where the transport, messaging and membership log.</param>
    /// <param name="timeProvider">The clock of membership's timers.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The started cluster node.</returns>
    /// <exception cref="TransportException">The node's certificates cannot be loaded, or the endpoint cannot be listened on.</exception>
    /// <exception cref="MeshMembershipException">A seed refused this node because a cluster setting differs.</exception>
    public static async Task<ClusterNode> StartAsync(MeshRuntime runtime, MeshOptions options, ILoggerFactory loggerFactory, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        string endpoint = options.Endpoint ?? throw new InvalidOperationException("A cluster node needs Mesh:Endpoint.");
        ILogger transportLogger = loggerFactory.CreateLogger("Mesh.Transport");
        TransportCredentials credentials = TransportCredentialsLoader.Load(options.Tls, transportLogger);
        var metrics = new TransportMetrics();
        ITransport transport = TransportFactory.Create(
            options.Transport, credentials, metrics, transportLogger, () => new TcpTransport(credentials, metrics, transportLogger), QuicOptionsFrom(options));
        var peers = new PeerConnections(transport, FramedConnectionOptions.FromMeshOptions(options), options: null, metrics, loggerFactory.CreateLogger("Mesh.Messaging"));
        MembershipService? membership = null;
        try
        {
            peers.Register(ClusterService.Call, new CallService(runtime, loggerFactory.CreateLogger("Mesh.Messaging")));
            peers.Register(ClusterService.Stats, new NodeStatsService(runtime.ReadStats));
            EndPoint bound = await peers.ListenAsync(await ResolveListenEndPointAsync(endpoint, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            string advertised = options.AdvertisedEndpoint ?? Advertise(endpoint, bound);
            runtime.SetEndpoint(advertised);
            runtime.Network = peers;

            membership = MembershipService.Create(runtime, peers, options, advertised, loggerFactory, timeProvider);
            peers.Register(ClusterService.Membership, membership);
            await membership.StartAsync(cancellationToken).ConfigureAwait(false);
            return new ClusterNode(runtime, transport, metrics, peers, membership);
        }
        catch
        {
            runtime.Announcer = null;
            runtime.Network = null;
            if (membership is not null)
            {
                await membership.DisposeAsync().ConfigureAwait(false);
            }

            await peers.DisposeAsync().ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
            metrics.Dispose();
            throw;
        }
    }

    /// <summary>Announces that this node leaves, so the others take over its shards at once.</summary>
    /// <param name="cancellationToken">Stops waiting for the others' acknowledgements.</param>
    public Task LeaveAsync(CancellationToken cancellationToken) => _membership.LeaveAsync(cancellationToken);

    /// <summary>Stops membership, then closes every connection and the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        _runtime.Announcer = null;
        await _membership.DisposeAsync().ConfigureAwait(false);
        _runtime.Network = null;
        await _peers.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
    }

    /// <summary>The QUIC transport's settings that <paramref name="options"/> decides; the rest keep their defaults.</summary>
    internal static QuicTransportOptions QuicOptionsFrom(MeshOptions options) => new() { ReceiveSpinTime = options.ReceiveSpinTime };

    private static async Task<EndPoint> ResolveListenEndPointAsync(string endpoint, CancellationToken cancellationToken)
    {
        (string host, int port) = HostPort.Parse(endpoint, "Mesh:Endpoint", allowPortZero: true);
        if (HostPort.IsWildcard(host))
        {
            return new IPEndPoint(host == "::" ? IPAddress.IPv6Any : IPAddress.Any, port);
        }

        if (IPAddress.TryParse(host, out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress chosen = Array.Find(addresses, static a => a.AddressFamily == AddressFamily.InterNetwork) ?? (addresses.Length > 0
            ? addresses[0]
            : throw new TransportException($"Mesh:Endpoint '{endpoint}': the host name resolves to no address."));
        return new IPEndPoint(chosen, port);
    }

    // What the others dial: the configured host with the port actually bound (port 0 picks one); for a wildcard listen,
    // this host's first up, non-loopback IPv4 address.
    private static string Advertise(string endpoint, EndPoint bound)
    {
        (string host, _) = HostPort.Parse(endpoint, "Mesh:Endpoint", allowPortZero: true);
        int port = bound is IPEndPoint ip ? ip.Port : 0;
        if (!HostPort.IsWildcard(host))
        {
            return bound is IPEndPoint boundIp && IPAddress.TryParse(host, out _) ? HostPort.Format(boundIp) : $"{host}:{port}";
        }

        foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    return HostPort.Format(new IPEndPoint(unicast.Address, port));
                }
            }
        }

        throw new TransportException($"Mesh:Endpoint '{endpoint}' listens on every address and this host has no non-loopback IPv4 address to advertise: set Mesh:AdvertisedEndpoint.");
    }
}
