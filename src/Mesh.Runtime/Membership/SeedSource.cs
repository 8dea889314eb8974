using System.Net;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Membership;

/// <summary>Where a node finds the nodes to join through: a static list, DNS, or both. Asked every time the node
/// tries to join; an implementation caches what is expensive to find.</summary>
internal abstract class SeedSource
{
    /// <summary>A source with no seeds: the node runs alone until others join it.</summary>
    public static SeedSource None { get; } = new StaticSeedSource([]);

    /// <summary>Returns the <c>host:port</c> of the nodes to try now; possibly empty, never throws but for cancellation.</summary>
    public abstract ValueTask<IReadOnlyList<string>> GetSeedsAsync(CancellationToken cancellationToken);

    /// <summary>The seeds of <paramref name="settings"/>: its static list, then the addresses of its DNS discovery host.</summary>
    public static SeedSource From(MembershipSettings settings, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var staticSeeds = new StaticSeedSource(settings.Seeds);
        if (string.IsNullOrEmpty(settings.DnsDiscoveryHost))
        {
            return staticSeeds;
        }

        var dns = new DnsSeedSource(settings.DnsDiscoveryHost, settings.DnsDiscoveryPort, settings.DnsRefreshInterval, settings.JoinRetryInterval, timeProvider, logger);
        return settings.Seeds.Count == 0 ? dns : new CompositeSeedSource([staticSeeds, dns]);
    }
}

/// <summary>A fixed list of seeds (<see cref="MeshOptions.Seeds"/>).</summary>
internal sealed class StaticSeedSource(IReadOnlyList<string> seeds) : SeedSource
{
    public override ValueTask<IReadOnlyList<string>> GetSeedsAsync(CancellationToken cancellationToken) => new(seeds);
}

/// <summary>The seeds of several sources, in order, without duplicates.</summary>
internal sealed class CompositeSeedSource(IReadOnlyList<SeedSource> sources) : SeedSource
{
    public override async ValueTask<IReadOnlyList<string>> GetSeedsAsync(CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var seeds = new List<string>();
        foreach (SeedSource source in sources)
        {
            foreach (string seed in await source.GetSeedsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (seen.Add(seed))
                {
                    seeds.Add(seed);
                }
            }
        }

        return seeds;
    }
}

/// <summary>
/// Every address of a host name, each with the discovery port: on Kubernetes, a headless service answers with the
/// address of every ready pod. A successful answer is kept for the refresh interval; a failed or empty one only until
/// the next join attempt, because a cluster that is starting up appears in DNS pod by pod.
/// </summary>
internal sealed class DnsSeedSource : SeedSource
{
    /// <summary>How long one lookup may take before it counts as failed, so that a slow resolver cannot hold up the
    /// node's start: the resolver's own default per-attempt timeout (resolv.conf <c>timeout:5</c>).</summary>
    internal static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeSpan _retryInterval;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<string> _seeds = [];
    private long _expiresAt;
    private bool _resolvedOnce;

    public DnsSeedSource(string host, int port, TimeSpan refreshInterval, TimeSpan retryInterval, TimeProvider timeProvider, ILogger logger, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        _host = host;
        _port = port;
        _refreshInterval = refreshInterval;
        _retryInterval = retryInterval;
        _timeProvider = timeProvider;
        _logger = logger;
        _resolve = resolve ?? Dns.GetHostAddressesAsync;
    }

    public override async ValueTask<IReadOnlyList<string>> GetSeedsAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            long now = _timeProvider.GetTimestamp();
            if (_resolvedOnce && now < _expiresAt)
            {
                return _seeds;
            }

            _resolvedOnce = true;
            TimeSpan keep = _retryInterval;
            try
            {
                IPAddress[] addresses = await _resolve(_host, cancellationToken).WaitAsync(ResolveTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
                var seeds = new List<string>(addresses.Length);
                foreach (IPAddress address in addresses)
                {
                    seeds.Add(HostPort.Format(new IPEndPoint(address, _port)));
                }

                seeds.Sort(StringComparer.Ordinal);
                _seeds = seeds;
                if (seeds.Count > 0)
                {
                    keep = _refreshInterval;
                }

                MembershipLog.DnsResolved(_logger, _host, seeds.Count);
            }
            catch (Exception exception) when (exception is System.Net.Sockets.SocketException or ArgumentException or TimeoutException)
            {
                // Keep the last answer: a DNS hiccup must not make the node forget the cluster it can still reach.
                MembershipLog.DnsFailed(_logger, _host, exception);
            }

            _expiresAt = now + (long)(keep.TotalSeconds * _timeProvider.TimestampFrequency);
            return _seeds;
        }
        finally
        {
            _gate.Release();
        }
    }
}
