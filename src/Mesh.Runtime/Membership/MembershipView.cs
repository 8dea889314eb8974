using System.Collections.Frozen;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging;

namespace Mesh.Membership;

/// <summary>
/// One node's view of the cluster and the rules that change it: what it knows of each member, this node's own state,
/// the queue of updates to gossip and the probe order. Not thread-safe: <see cref="MembershipService"/> calls it under
/// its lock, and only for in-memory work.
/// </summary>
internal sealed class MembershipView
{
    private readonly MembershipSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MembershipMetrics _metrics;
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly List<Broadcast> _broadcasts = [];
    private readonly Dictionary<string, Broadcast> _broadcastsByName = new(StringComparer.Ordinal);

    // The live member that holds each endpoint, so that a newcomer finds an earlier process on its endpoint without
    // scanning the view (a join into a large cluster merges thousands of members at once).
    private readonly Dictionary<string, Member> _endpointHolders = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _probeOrder = [];
    private readonly Random _random = new();
    private MemberUpdate _self;
    private MeshNode _selfNode;
    private long _version;
    private int _probeIndex;
    private bool _left;
    private long _conflictingIncarnation;
    private bool _fullLogged;

    public MembershipView(MembershipSettings settings, TimeProvider time, ILogger logger, MembershipMetrics metrics)
    {
        _settings = settings;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _self = new MemberUpdate(settings.NodeName, settings.Incarnation, 0, MeshNodeStatus.Up, settings.AdvertisedEndpoint, settings.Capabilities.ToFrozenSet(StringComparer.Ordinal));
        _selfNode = ToNode(_self);
        _version = 1;
        Snapshot = new MembershipSnapshot(_version, _selfNode, [_selfNode]);
    }

    public MemberId SelfId => _self.Id;

    public bool HasLeft => _left;

    /// <summary>Gets the view as of the last commit.</summary>
    public MembershipSnapshot Snapshot { get; private set; }

    /// <summary>Starts a batch of changes, stamped with the version its commit will get.</summary>
    public MembershipChanges Begin() => new(_version + 1);

    /// <summary>Marks this node left (final for this run), and returns the update that says so.</summary>
    public MemberUpdate Leave(MembershipChanges changes)
    {
        _left = true;
        _self = _self with { Status = MeshNodeStatus.Left, Epoch = _self.Epoch + 1 };
        _selfNode = ToNode(_self);
        changes.Add(MembershipChangeKind.Left, _selfNode);
        return _self;
    }

    /// <summary>Sets this node's capabilities under a new epoch, so the update wins everywhere; false when unchanged.</summary>
    public bool AnnounceCapabilities(IReadOnlySet<string> capabilities, MembershipChanges changes)
    {
        if (_self.Capabilities.SetEquals(capabilities))
        {
            return false;
        }

        _self = _self with { Capabilities = capabilities.ToFrozenSet(StringComparer.Ordinal), Epoch = _self.Epoch + 1 };
        _selfNode = ToNode(_self);
        Enqueue(_self);
        changes.Add(MembershipChangeKind.CapabilitiesChanged, _selfNode);
        return true;
    }

    /// <summary>Suspects <paramref name="target"/> after a failed probe, unless the view moved on meanwhile (the member
    /// was replaced by a newer run, refuted, or is suspected already).</summary>
    public void Suspect(MemberUpdate target, MembershipChanges changes)
    {
        if (_members.TryGetValue(target.Name, out Member? member) && member.State.Incarnation == target.Incarnation && member.State.Status == MeshNodeStatus.Up)
        {
            Apply(member.State with { Status = MeshNodeStatus.Suspect }, changes);
        }
    }

    /// <summary>The endpoints of every live member.</summary>
    public List<string> LiveEndpoints()
    {
        List<string> endpoints = [];
        foreach (Member member in _members.Values)
        {
            if (member.IsLive && member.State.Endpoint is { } endpoint)
            {
                endpoints.Add(endpoint);
            }
        }

        return endpoints;
    }

    /// <summary>Up to <paramref name="count"/> random members that are up, other than <paramref name="target"/>, to
    /// probe it indirectly.</summary>
    public List<string> ProbeHelpers(string target, int count)
    {
        List<string> helpers = [];
        foreach (Member member in _members.Values)
        {
            if (member.State.Status == MeshNodeStatus.Up && member.State.Endpoint is { } endpoint && member.State.Name != target)
            {
                helpers.Add(endpoint);
            }
        }

        _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(helpers));
        return helpers.Count > count ? helpers[..count] : helpers;
    }

    /// <summary>A random live member to exchange state with, or null.</summary>
    public string? RandomLiveEndpoint() => RandomEndpoint(static m => m.IsLive);

    /// <summary>A random member held down, to try a state exchange with in case it was only cut off, or null.</summary>
    public string? RandomDownEndpoint() => RandomEndpoint(static m => m.State.Status == MeshNodeStatus.Down);

    /// <summary>Merges what another node says about one member into the view. Rules: a higher incarnation (a newer run)
    /// replaces the member, a lower one is stale; within a run, Alive needs a higher epoch than what is known,
    /// Suspect and Down the same epoch or higher, and Left is final. About this node itself, a suspicion or death
    /// of the current epoch is refuted by raising the epoch.</summary>
    public void Apply(MemberUpdate update, MembershipChanges changes)
    {
        if (update.Name == _self.Name)
        {
            ApplyAboutSelf(update);
            return;
        }

        if (!_members.TryGetValue(update.Name, out Member? member))
        {
            // A state exchange carries the whole view in one message, so the view cannot hold more than one carries.
            if (_members.Count + 1 >= MembershipCodec.MaxMembers)
            {
                if (!_fullLogged)
                {
                    _fullLogged = true;
                    MembershipLog.ViewFull(_logger, MembershipCodec.MaxMembers, update.Id.ToString());
                }

                return;
            }

            member = new Member(update, ToNode(update), _time.GetTimestamp());
            _members.Add(update.Name, member);
            changes.MembersChanged = true;
            Arrived(member, wasLive: false, changes);
            Enqueue(update);
            return;
        }

        MemberUpdate known = member.State;
        if (update.Incarnation < known.Incarnation)
        {
            return;
        }

        if (update.Incarnation > known.Incarnation)
        {
            // A newer run of the member: the old run is gone for good, whatever the new one's status.
            bool oldWasLive = member.IsLive;
            if (oldWasLive)
            {
                changes.Add(MembershipChangeKind.Down, ToNode(known with { Status = MeshNodeStatus.Down }));
                MembershipLog.MemberReplaced(_logger, member.Node, ToNode(update));
            }

            member.Set(update, ToNode(update), _time.GetTimestamp());
            changes.MembersChanged = true;
            Arrived(member, oldWasLive, changes);
            Enqueue(update);
            return;
        }

        bool accept = update.Status switch
        {
            MeshNodeStatus.Up => known.Status != MeshNodeStatus.Left && update.Epoch > known.Epoch,
            MeshNodeStatus.Suspect => (known.Status == MeshNodeStatus.Up && update.Epoch >= known.Epoch) || (known.Status == MeshNodeStatus.Suspect && update.Epoch > known.Epoch),
            MeshNodeStatus.Down => member.IsLive && update.Epoch >= known.Epoch,
            _ => known.Status != MeshNodeStatus.Left,
        };
        if (!accept)
        {
            return;
        }

        MembershipChangeKind? kind = (known.Status, update.Status) switch
        {
            (MeshNodeStatus.Up, MeshNodeStatus.Suspect) => MembershipChangeKind.Suspect,
            (MeshNodeStatus.Suspect or MeshNodeStatus.Down, MeshNodeStatus.Up) => MembershipChangeKind.Alive,
            (_, MeshNodeStatus.Down) => MembershipChangeKind.Down,
            (_, MeshNodeStatus.Left) => MembershipChangeKind.Left,
            _ => null,
        };
        bool capabilitiesChanged = !known.Capabilities.SetEquals(update.Capabilities);
        bool wasLive = member.IsLive;
        if (!capabilitiesChanged)
        {
            // Keep the set the view holds, so unchanged members share one instance across views.
            update = update with { Capabilities = known.Capabilities };
        }

        // Since is when the member entered its status: the start of a suspicion, or of a tombstone's retention.
        long since = kind is MembershipChangeKind.Suspect or MembershipChangeKind.Down or MembershipChangeKind.Left ? _time.GetTimestamp() : member.Since;
        member.Set(update, kind is null && !capabilitiesChanged ? member.Node : ToNode(update), since);
        Enqueue(update);
        if (kind is { } change)
        {
            changes.Add(change, member.Node);
            LogChange(change, member.Node);
            if (change == MembershipChangeKind.Alive)
            {
                _metrics.Refuted();
                if (!wasLive)
                {
                    _probeOrder.Insert(_random.Next(_probeIndex, _probeOrder.Count + 1), update.Name);
                }
            }

            if (change == MembershipChangeKind.Suspect && known.Status == MeshNodeStatus.Up)
            {
                _metrics.Suspected();
            }
        }

        if (capabilitiesChanged)
        {
            changes.Add(MembershipChangeKind.CapabilitiesChanged, member.Node);
            MembershipLog.CapabilitiesChanged(_logger, member.Node, string.Join(",", update.Capabilities));
        }

        changes.MembersChanged |= kind is not null || capabilitiesChanged;
    }

    /// <summary>A member that is new to the view, or a newer run of one: if live, it joins the probe order at a random
    /// place of the current round, is announced, and takes its endpoint from any earlier process there.</summary>
    private void Arrived(Member member, bool wasLive, MembershipChanges changes)
    {
        if (!member.IsLive)
        {
            return;
        }

        if (!wasLive)
        {
            _probeOrder.Insert(_random.Next(_probeIndex, _probeOrder.Count + 1), member.State.Name);
        }

        MembershipChangeKind kind = member.State.Status == MeshNodeStatus.Up ? MembershipChangeKind.Up : MembershipChangeKind.Suspect;
        changes.Add(kind, member.Node);
        LogChange(kind, member.Node);
        ResolveEndpointConflicts(member, changes);
    }

    private void ApplyAboutSelf(MemberUpdate update)
    {
        if (update.Incarnation < _self.Incarnation)
        {
            // Gossip about this node's previous run: make sure the cluster hears about this run instead.
            if (update.Status is MeshNodeStatus.Up or MeshNodeStatus.Suspect)
            {
                Enqueue(_self);
            }

            return;
        }

        if (update.Incarnation > _self.Incarnation)
        {
            // Every piece of gossip about the other run would repeat the warning; once per run says it.
            if (update.Incarnation != _conflictingIncarnation)
            {
                _conflictingIncarnation = update.Incarnation;
                MembershipLog.NameConflict(_logger, update.Id.ToString());
            }

            return;
        }

        if (_left || update.Status == MeshNodeStatus.Up || update.Epoch < _self.Epoch)
        {
            return;
        }

        long epoch = _self.Epoch;
        _self = _self with { Epoch = update.Epoch + 1 };
        _selfNode = ToNode(_self);
        Enqueue(_self);
        _metrics.Refuted();
        MembershipLog.Refuting(_logger, epoch, _self.Epoch);
    }

    /// <summary>Two live members cannot listen on one endpoint: the one started last (highest incarnation) holds it,
    /// and any other is a previous process that is gone, so it is declared down at once.</summary>
    private void ResolveEndpointConflicts(Member newcomer, MembershipChanges changes)
    {
        string? endpoint = newcomer.State.Endpoint;
        if (endpoint is null)
        {
            return;
        }

        if (string.Equals(endpoint, _self.Endpoint, StringComparison.OrdinalIgnoreCase))
        {
            // This node holds the endpoint, so the newcomer is an earlier process that listened there.
            Apply(newcomer.State with { Status = MeshNodeStatus.Down }, changes);
            return;
        }

        Member holder = newcomer;
        if (_endpointHolders.TryGetValue(endpoint, out Member? other) && other != newcomer && other.IsLive
            && string.Equals(other.State.Endpoint, endpoint, StringComparison.OrdinalIgnoreCase))
        {
            Member older = other.State.Incarnation < newcomer.State.Incarnation ? other : newcomer;
            holder = older == other ? newcomer : other;
            Apply(older.State with { Status = MeshNodeStatus.Down }, changes);
        }

        _endpointHolders[endpoint] = holder;
    }

    public void ExpireSuspicionsAndTombstones(MembershipChanges changes)
    {
        long now = _time.GetTimestamp();
        TimeSpan suspicion = _settings.SuspicionTimeoutFor(LiveCount() + 1);
        List<Member>? expired = null;
        foreach (Member member in _members.Values)
        {
            TimeSpan age = _time.GetElapsedTime(member.Since, now);
            if ((member.State.Status == MeshNodeStatus.Suspect && age >= suspicion) || (!member.IsLive && age >= _settings.TombstoneRetention))
            {
                (expired ??= []).Add(member);
            }
        }

        foreach (Member member in expired ?? [])
        {
            if (member.IsLive)
            {
                Apply(member.State with { Status = MeshNodeStatus.Down }, changes);
            }
            else
            {
                _members.Remove(member.State.Name);
                if (member.State.Endpoint is { } endpoint && _endpointHolders.TryGetValue(endpoint, out Member? holder) && holder == member)
                {
                    _endpointHolders.Remove(endpoint);
                }

                changes.MembersChanged = true;
            }
        }
    }

    public MemberUpdate? NextProbeTarget()
    {
        for (int pass = 0; pass < 2; pass++)
        {
            while (_probeIndex < _probeOrder.Count)
            {
                string name = _probeOrder[_probeIndex++];
                if (_members.TryGetValue(name, out Member? member) && member.IsLive && member.State.Endpoint is not null)
                {
                    return member.State;
                }
            }

            // A full round is done: a new random order, so that every member is probed once per round but the
            // rounds of different nodes do not line up.
            _probeOrder.Clear();
            _probeIndex = 0;
            foreach (Member member in _members.Values)
            {
                if (member.IsLive)
                {
                    _probeOrder.Add(member.State.Name);
                }
            }

            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_probeOrder));
        }

        return null;
    }

    private string? RandomEndpoint(Func<Member, bool> predicate)
    {
        List<string> candidates = [];
        foreach (Member member in _members.Values)
        {
            if (predicate(member) && member.State.Endpoint is { } endpoint)
            {
                candidates.Add(endpoint);
            }
        }

        return candidates.Count == 0 ? null : candidates[_random.Next(candidates.Count)];
    }

    /// <summary>How many other members are up or suspected: the n of the cluster-size dependent timings (tombstones
    /// neither probe nor gossip, so they do not count).</summary>
    private int LiveCount()
    {
        int live = 0;
        foreach (Member member in _members.Values)
        {
            live += member.IsLive ? 1 : 0;
        }

        return live;
    }

    public bool HasLiveMember()
    {
        foreach (Member member in _members.Values)
        {
            if (member.IsLive)
            {
                return true;
            }
        }

        return false;
    }

    public List<MemberUpdate> FullState()
    {
        var state = new List<MemberUpdate>(_members.Count + 1) { _self };
        foreach (Member member in _members.Values)
        {
            state.Add(member.State);
        }

        return state;
    }

    /// <summary>Queues <paramref name="update"/> for gossip; it replaces, and starts afresh, any queued update about
    /// the same member.</summary>
    private void Enqueue(MemberUpdate update)
    {
        if (_broadcastsByName.TryGetValue(update.Name, out Broadcast? queued))
        {
            queued.Update = update;
            queued.Transmits = 0;
            return;
        }

        var broadcast = new Broadcast(update);
        _broadcasts.Add(broadcast);
        _broadcastsByName.Add(update.Name, broadcast);
    }

    /// <summary>The updates to piggyback on one message: those sent the fewest times first, each retired after
    /// λ·log2(n + 1) sends. A node that left always adds its leave, so whoever still probes it learns at once; an
    /// answer to a member this node suspects or holds down tells it so, so that it refutes at once even when the news
    /// has long been retired from gossip (a healed partition).</summary>
    public List<MemberUpdate> Piggyback(MemberId peer = default)
    {
        var updates = new List<MemberUpdate>(Math.Min(_broadcasts.Count + 2, MembershipSettings.MaxUpdatesPerMessage + 2));
        if (_left)
        {
            updates.Add(_self);
        }

        if (peer.Name is not null && _members.TryGetValue(peer.Name, out Member? about) && about.State.Incarnation == peer.Incarnation
            && about.State.Status is MeshNodeStatus.Suspect or MeshNodeStatus.Down)
        {
            updates.Add(about.State);
        }

        if (_broadcasts.Count == 0)
        {
            return updates;
        }

        _broadcasts.Sort(static (a, b) => a.Transmits.CompareTo(b.Transmits));
        int limit = MembershipSettings.RetransmitLimit(LiveCount() + 1);
        for (int i = 0; i < _broadcasts.Count && updates.Count < MembershipSettings.MaxUpdatesPerMessage; i++)
        {
            Broadcast broadcast = _broadcasts[i];
            if (broadcast.Update.Name == _self.Name && _left)
            {
                continue;
            }

            updates.Add(broadcast.Update);
            broadcast.Transmits++;
        }

        _broadcasts.RemoveAll(b => b.Transmits >= limit && _broadcastsByName.Remove(b.Update.Name));
        return updates;
    }

    /// <summary>Ends a batch: when anything changed, a new version and the view to publish with its changes.</summary>
    public (MembershipSnapshot Snapshot, MembershipChangedEventArgs[] Changes)? Commit(MembershipChanges changes)
    {
        if (!changes.MembersChanged && changes.Changes.Count == 0)
        {
            return null;
        }

        _version = changes.Version;
        var members = ImmutableArray.CreateBuilder<MeshNode>(_members.Count + 1);
        members.Add(_selfNode);
        int[] byStatus = new int[4];
        byStatus[(int)_selfNode.Status]++;
        foreach (Member member in _members.Values)
        {
            members.Add(member.Node);
            byStatus[(int)member.State.Status]++;
        }

        members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        Snapshot = new MembershipSnapshot(_version, _selfNode, members.MoveToImmutable());
        _metrics.SetMembers(byStatus);
        return (Snapshot, [.. changes.Changes]);
    }

    private void LogChange(MembershipChangeKind kind, MeshNode node)
    {
        switch (kind)
        {
            case MembershipChangeKind.Up:
                MembershipLog.MemberUp(_logger, node);
                break;
            case MembershipChangeKind.Suspect:
                MembershipLog.MemberSuspected(_logger, node);
                break;
            case MembershipChangeKind.Alive:
                MembershipLog.MemberAlive(_logger, node);
                break;
            case MembershipChangeKind.Down:
                MembershipLog.MemberDown(_logger, node);
                break;
            case MembershipChangeKind.Left:
                MembershipLog.MemberLeft(_logger, node);
                break;
        }
    }

    private static MeshNode ToNode(MemberUpdate update) => new(update.Name, update.Incarnation, update.Endpoint, update.Capabilities, update.Status);

    /// <summary>What this node knows about one other member.</summary>
    private sealed class Member(MemberUpdate state, MeshNode node, long since)
    {
        public MemberUpdate State { get; private set; } = state;

        public MeshNode Node { get; private set; } = node;

        /// <summary>When the member entered its status (for suspicion timeouts and tombstone retention).</summary>
        public long Since { get; private set; } = since;

        public bool IsLive => State.Status is MeshNodeStatus.Up or MeshNodeStatus.Suspect;

        public void Set(MemberUpdate state, MeshNode node, long since)
        {
            State = state;
            Node = node;
            Since = since;
        }
    }

    private sealed class Broadcast(MemberUpdate update)
    {
        public MemberUpdate Update { get; set; } = update;

        public int Transmits { get; set; }
    }
}

/// <summary>The changes of one batch, all stamped with the version the batch will commit.</summary>
internal sealed class MembershipChanges(long version)
{
    public long Version { get; } = version;

    public List<MembershipChangedEventArgs> Changes { get; } = [];

    public bool MembersChanged { get; set; }

    public void Add(MembershipChangeKind kind, MeshNode node) => Changes.Add(new MembershipChangedEventArgs(kind, node, Version));
}
