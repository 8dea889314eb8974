using System.Net;
using Mesh.Membership;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime.Tests.Membership;

public sealed class SeedSourceTests
{
    [Fact]
    public async Task Dns_discovery_resolves_every_address_of_localhost_with_the_discovery_port()
    {
        var source = new DnsSeedSource("localhost", 7411, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance);

        IReadOnlyList<string> seeds = await source.GetSeedsAsync(CancellationToken.None);

        Assert.NotEmpty(seeds);
        Assert.All(seeds, s => Assert.True(s is "127.0.0.1:7411" or "[::1]:7411", s));
    }

    [Fact]
    public async Task Dns_answers_are_kept_for_the_refresh_interval_and_failures_retried_at_the_next_join_attempt()
    {
        var clock = new ManualClock();
        int lookups = 0;
        IPAddress[]? answer = null;
        var source = new DnsSeedSource("mesh.default.svc", 7400, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), clock, NullLogger.Instance, (_, _) =>
        {
            lookups++;
            return answer is null ? Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException(11001)) : Task.FromResult(answer);
        });

        Assert.Empty(await source.GetSeedsAsync(CancellationToken.None));
        Assert.Empty(await source.GetSeedsAsync(CancellationToken.None));
        Assert.Equal(1, lookups);

        answer = [IPAddress.Parse("10.1.0.7"), IPAddress.Parse("10.1.0.5")];
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["10.1.0.5:7400", "10.1.0.7:7400"], await source.GetSeedsAsync(CancellationToken.None));
        Assert.Equal(2, lookups);

        answer = null;
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(2, (await source.GetSeedsAsync(CancellationToken.None)).Count);
        Assert.Equal(2, lookups);

        // A failed refresh keeps the last answer: a DNS hiccup must not make the node forget its cluster.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["10.1.0.5:7400", "10.1.0.7:7400"], await source.GetSeedsAsync(CancellationToken.None));
        Assert.Equal(3, lookups);
    }

    [Fact]
    public async Task A_dns_lookup_that_never_answers_counts_as_failed_after_the_resolve_timeout()
    {
        var never = new TaskCompletionSource<IPAddress[]>();
        var source = new DnsSeedSource("slow.example", 7400, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), TimeProvider.System, NullLogger.Instance, (_, _) => never.Task);

        Task<IReadOnlyList<string>> seeds = source.GetSeedsAsync(CancellationToken.None).AsTask();

        Assert.Same(seeds, await Task.WhenAny(seeds, Task.Delay(DnsSeedSource.ResolveTimeout * 4)));
        Assert.Empty(await seeds);
    }

    [Fact]
    public async Task Static_seeds_and_dns_discovery_combine_without_duplicates()
    {
        MembershipSettings settings = new MembershipCluster().Settings("node-0", "127.0.0.1:7400", ["127.0.0.1:7411", "10.0.0.1:7400"]) with { DnsDiscoveryHost = "localhost", DnsDiscoveryPort = 7411 };

        IReadOnlyList<string> seeds = await SeedSource.From(settings, TimeProvider.System, NullLogger.Instance).GetSeedsAsync(CancellationToken.None);

        Assert.Equal("127.0.0.1:7411", seeds[0]);
        Assert.Equal("10.0.0.1:7400", seeds[1]);
        Assert.Equal(seeds.Count, seeds.Distinct().Count());
    }
}
