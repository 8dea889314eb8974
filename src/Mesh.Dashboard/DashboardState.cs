using System.Collections.Concurrent;

namespace Mesh.Dashboard;

/// <summary>Keeps the picture the page shows: refreshed on one loop (so many open pages cost no more than one), with the
/// recent membership events and each member's call rate between two refreshes.</summary>
internal sealed class DashboardState : IDisposable
{
    private readonly IDashboardSource _source;
    private readonly MeshDashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly Queue<DashboardEvent> _events = new();
    private readonly Lock _eventsGate = new();
    private readonly ConcurrentDictionary<(string Name, long Incarnation), Sample> _samples = new();
    private readonly ConcurrentDictionary<(string Name, long Incarnation), DateTimeOffset> _firstSeen = new();
    private readonly IDisposable _subscription;
    private DashboardSnapshot? _latest;

    public DashboardState(IDashboardSource source, MeshDashboardOptions options, TimeProvider? time = null)
    {
        _source = source;
        _options = options;
        _time = time ?? TimeProvider.System;
        _subscription = source.Subscribe(OnMembershipChanged);
    }

    /// <summary>Gets the last picture taken, or takes one.</summary>
    public DashboardSnapshot Latest => Volatile.Read(ref _latest) ?? Capture(countersByNode: null);

    /// <summary>Takes a new picture: asks every member that is up for its counters, at most for the refresh interval.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<MeshNode> members = _source.Members;
        var pending = new List<(MeshNode Node, Task<NodeCounters?> Counters)>(members.Count);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RefreshInterval);
        foreach (MeshNode member in members)
        {
            if (member.Status == MeshNodeStatus.Up)
            {
                pending.Add((member, AskAsync(member, timeout.Token)));
            }
        }

        var counters = new Dictionary<(string, long), NodeCounters>();
        foreach ((MeshNode node, Task<NodeCounters?> task) in pending)
        {
            if (await task.ConfigureAwait(false) is { } value)
            {
                counters[(node.Name, node.Incarnation)] = value;
            }
        }

        Volatile.Write(ref _latest, Capture(counters));
    }

    public void Dispose() => _subscription.Dispose();

    private async Task<NodeCounters?> AskAsync(MeshNode node, CancellationToken cancellationToken)
    {
        try
        {
            return await _source.GetCountersAsync(node, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private DashboardSnapshot Capture(Dictionary<(string, long), NodeCounters>? countersByNode)
    {
        DateTimeOffset now = _time.GetUtcNow();
        IReadOnlyList<MeshNode> members = _source.Members;
        var rows = new List<DashboardMember>(members.Count);
        var capabilities = new SortedSet<string>(StringComparer.Ordinal);
        foreach (MeshNode member in members)
        {
            var key = (member.Name, member.Incarnation);
            DateTimeOffset started = _firstSeen.GetOrAdd(key, now);
            long? activations = null;
            double? rate = null;
            if (countersByNode is not null && countersByNode.TryGetValue(key, out NodeCounters counters))
            {
                activations = counters.Activations;
                var sample = new Sample(now, counters.Calls);
                if (_samples.TryGetValue(key, out Sample previous) && now > previous.Time)
                {
                    rate = Math.Max(0, counters.Calls - previous.Calls) / (now - previous.Time).TotalSeconds;
                }

                _samples[key] = sample;
            }

            string[] caps = [.. member.Capabilities.Order(StringComparer.Ordinal)];
            if (member.Status == MeshNodeStatus.Up)
            {
                capabilities.UnionWith(caps);
            }

            rows.Add(new DashboardMember(member.Name, member.Incarnation, member.Endpoint, member.Status.ToString(), caps, started, activations, rate));
        }

        rows.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var maps = new List<DashboardShardMap>(capabilities.Count);
        var owners = new MeshNode?[_source.ShardCount];
        foreach (string capability in capabilities)
        {
            Array.Clear(owners);
            _source.GetShardOwners(capability, owners);
            var names = new List<string>();
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            int[] cells = new int[owners.Length];
            for (int shard = 0; shard < owners.Length; shard++)
            {
                if (owners[shard] is not { } owner)
                {
                    cells[shard] = -1;
                    continue;
                }

                if (!index.TryGetValue(owner.Name, out int i))
                {
                    index[owner.Name] = i = names.Count;
                    names.Add(owner.Name);
                }

                cells[shard] = i;
            }

            maps.Add(new DashboardShardMap(capability, names, cells));
        }

        DashboardEvent[] events;
        lock (_eventsGate)
        {
            events = [.. _events.Reverse()];
        }

        return new DashboardSnapshot(_source.Self.Name, now, _source.ShardCount, rows, maps, events);
    }

    private void OnMembershipChanged(string kind, MeshNode node, DateTimeOffset time)
    {
        lock (_eventsGate)
        {
            _events.Enqueue(new DashboardEvent(time, kind, node.Name));
            while (_events.Count > _options.EventHistory)
            {
                _events.Dequeue();
            }
        }
    }

    private readonly record struct Sample(DateTimeOffset Time, long Calls);
}
