using System.Text.Json.Serialization;

namespace Mesh.Dashboard;

/// <summary>What the page shows, sent as JSON on every refresh.</summary>
internal sealed record DashboardSnapshot(
    string Self,
    DateTimeOffset Time,
    int ShardCount,
    IReadOnlyList<DashboardMember> Members,
    IReadOnlyList<DashboardShardMap> Shards,
    IReadOnlyList<DashboardEvent> Events);

/// <summary>One member as the hosting node sees it, with the counters it reported.</summary>
internal sealed record DashboardMember(
    string Name,
    long Incarnation,
    string? Endpoint,
    string Status,
    IReadOnlyList<string> Capabilities,
    DateTimeOffset Started,
    long? Activations,
    double? CallsPerSecond);

/// <summary>The owner of every shard of one capability: <see cref="Cells"/> holds, per shard, an index into
/// <see cref="Owners"/> (or -1 where no node serves it).</summary>
internal sealed record DashboardShardMap(string Capability, IReadOnlyList<string> Owners, IReadOnlyList<int> Cells);

/// <summary>One membership change.</summary>
internal sealed record DashboardEvent(DateTimeOffset Time, string Kind, string Node);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DashboardSnapshot))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
