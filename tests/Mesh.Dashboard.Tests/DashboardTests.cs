using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Dashboard.Tests;

public sealed class DashboardTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_picture_lists_members_counters_rates_shards_and_events()
    {
        var source = new FakeSource(
            FakeSource.Node("node-a", MeshNodeStatus.Up, "counter", "game"),
            FakeSource.Node("node-b", MeshNodeStatus.Up, "counter"),
            FakeSource.Node("node-c", MeshNodeStatus.Down, "chat"));
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        using var state = new DashboardState(source, new MeshDashboardOptions { RefreshInterval = TimeSpan.FromSeconds(5) }, clock);
        source.Counters["node-a"] = new NodeCounters(10, 1_000);
        source.Counters["node-b"] = new NodeCounters(5, 500);
        await state.RefreshAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(2));
        source.Counters["node-a"] = new NodeCounters(12, 1_300);
        source.Raise("MemberDown", source.Members[2], clock.GetUtcNow());

        await state.RefreshAsync(CancellationToken.None);
        DashboardSnapshot snapshot = state.Latest;

        Assert.Equal("node-a", snapshot.Self);
        Assert.Equal(["node-a", "node-b", "node-c"], snapshot.Members.Select(m => m.Name));
        DashboardMember a = snapshot.Members[0];
        Assert.Equal(("Up", 12L, 150.0), (a.Status, a.Activations!.Value, a.CallsPerSecond!.Value));
        Assert.Equal(0.0, snapshot.Members[1].CallsPerSecond);
        Assert.Equal(("Down", (long?)null), (snapshot.Members[2].Status, snapshot.Members[2].Activations));
        Assert.Equal(["counter", "game"], snapshot.Shards.Select(s => s.Capability));
        DashboardShardMap counter = snapshot.Shards[0];
        Assert.Equal(64, counter.Cells.Count);
        Assert.Equal(32, counter.Cells.Count(c => counter.Owners[c] == "node-b"));
        Assert.DoesNotContain(snapshot.Shards, s => s.Capability == "chat");
        Assert.Equal(("MemberDown", "node-c"), (snapshot.Events[0].Kind, snapshot.Events[0].Node));
    }

    [Fact]
    public async Task Events_keep_only_the_configured_history_newest_first()
    {
        var source = new FakeSource(FakeSource.Node("node-a", MeshNodeStatus.Up, "counter"));
        using var state = new DashboardState(source, new MeshDashboardOptions { EventHistory = 3 });
        for (int i = 0; i < 10; i++)
        {
            source.Raise("MemberUp", FakeSource.Node($"n{i}", MeshNodeStatus.Up), DateTimeOffset.UnixEpoch.AddSeconds(i));
        }

        await state.RefreshAsync(CancellationToken.None);

        Assert.Equal(["n9", "n8", "n7"], state.Latest.Events.Select(e => e.Node));
    }

    [Fact]
    public async Task The_server_serves_an_offline_page_the_json_picture_and_a_live_stream()
    {
        var source = new FakeSource(FakeSource.Node("node-a", MeshNodeStatus.Up, "counter"), FakeSource.Node("node-b", MeshNodeStatus.Suspect, "counter"));
        using IHost host = BuildHost(source);
        await host.StartAsync();
        try
        {
            Uri url = host.Services.GetRequiredService<DashboardHostedService>().Url!;
            using var http = new HttpClient { BaseAddress = url, Timeout = Timeout };

            string page = await http.GetStringAsync(new Uri("/", UriKind.Relative));
            Assert.Contains("<title>Mesh cluster</title>", page, StringComparison.Ordinal);
            Assert.DoesNotContain("src=\"http", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("href=\"http", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("@import", page, StringComparison.OrdinalIgnoreCase);

            using JsonDocument cluster = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/cluster", UriKind.Relative)));
            Assert.Equal("node-a", cluster.RootElement.GetProperty("self").GetString());
            Assert.Equal(["Up", "Suspect"], cluster.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()));

            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/stream", UriKind.Relative));
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            using var cts = new CancellationTokenSource(Timeout);
            string? line = await reader.ReadLineAsync(cts.Token);
            Assert.StartsWith("data: {", line, StringComparison.Ordinal);
            using JsonDocument streamed = JsonDocument.Parse(line!["data: ".Length..]);
            Assert.Equal(2, streamed.RootElement.GetProperty("members").GetArrayLength());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Theory]
    [InlineData("Mesh:Dashboard:Url", "127.0.0.1:7480", "Mesh:Dashboard:Url must be an absolute http:// or https:// URL")]
    [InlineData("Mesh:Dashboard:RefreshInterval", "soon", "Mesh:Dashboard:RefreshInterval must be between 50 ms and 1 minute")]
    [InlineData("Mesh:Dashboard:EventHistory", "0", "Mesh:Dashboard:EventHistory must be between 1 and 10000")]
    public async Task A_bad_option_stops_the_host_with_a_message_that_names_it(string key, string value, string expected)
    {
        using IHost host = BuildHost(new FakeSource(FakeSource.Node("node-a", MeshNodeStatus.Up)), new() { [key] = value });

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static IHost BuildHost(FakeSource source, Dictionary<string, string?>? configuration = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Mesh:Dashboard:Url"] = "http://127.0.0.1:0", ["Mesh:Dashboard:RefreshInterval"] = "00:00:00.100" });
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        builder.Services.AddSingleton<IDashboardSource>(source);
        builder.Services.AddMesh(mesh => mesh.AddDashboard());
        return builder.Build();
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
