using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;
using Mesh.Messaging;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Microsoft.Extensions.Logging;

namespace Mesh.Membership;

/// <summary>
/// SWIM-style membership of one node. Every <see cref="MembershipSettings.ProbeInterval"/> it probes one member
/// (round-robin over a shuffled list); a member that answers neither the probe nor the indirect probes of
/// <see cref="MembershipSettings.IndirectProbes"/> helpers is suspected, and declared down unless it refutes within the
/// suspicion timeout. Updates ride on probes and acks; a full state exchange on join and every
/// <see cref="MembershipSettings.SyncInterval"/> repairs what gossip missed. Every change of the view is handed to the
/// callback given at construction, one view at a time, in version order.
/// </summary>
/// <remarks>
/// Concurrency: the view (members, the gossip queue, the probe order, this node's own state) is guarded by one lock,
/// held only for in-memory work; network calls happen outside it. Views are queued under the lock and handed to the
/// callback by whichever thread wins the publishing flag, so callbacks never overlap and never reorder.
/// </remarks>
internal sealed class MembershipService : IClusterServiceHandler, ICapabilityAnnouncer, IAsyncDisposable
{
    /// <summary>How many seeds one join attempt asks at once: enough to get past a dead seed without fetching the
    /// whole view from every pod a DNS name returns.</summary>
    internal const int JoinFanout = 3;

    /// <summary>How many indirect probes this node runs for others at once; more requests are dropped (their
    /// requesters rely on their other helpers), so a flood cannot make this node open unbounded probes.</summary>
    internal const int MaxIndirectProbesServed = 64;

    private readonly IPeerNetwork _network;
    private readonly MembershipSettings _settings;
    private readonly SeedSource _seeds;
    private readonly Action<MembershipSnapshot, IReadOnlyList<MembershipChangedEventArgs>> _onChanged;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly List<Broadcast> _broadcasts = [];
    private readonly List<string> _probeOrder = [];
    private readonly Random _random = new();
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> _indirectProbes = new();
    private readonly ConcurrentQueue<(MembershipSnapshot Snapshot, MembershipChangedEventArgs[] Changes)> _views = new();
    private readonly CancellationTokenSource _stop = new();

    // Kept apart from _stop: work that starts after disposal (a late message) still reads a cancelled token, where
    // _stop.Token would throw. The source is always cancelled before it is disposed.
    private readonly CancellationToken _stopping;
    private MemberUpdate _self;
    private MeshNode _selfNode;
    private MembershipSnapshot _current;
    private long _version;
    private int _probeIndex;
    private long _sequence;
    private int _indirectServing;
    private int _publishing;
    private int _started;
    private bool _left;
    private bool _warnedNoSeed;
    private MeshMembershipException? _refusal;
    private Task _loops = Task.CompletedTask;

    public MembershipService(
        IPeerNetwork network,
        MembershipSettings settings,
        SeedSource seeds,
        Action<MembershipSnapshot, IReadOnlyList<MembershipChangedEventArgs>> onChanged,
        ILogger logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(onChanged);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (System.Text.Encoding.UTF8.GetByteCount(settings.ClusterName) > MembershipCodec.MaxClusterNameLength)
        {
            throw new ArgumentException($"The cluster name may be at most {MembershipCodec.MaxClusterNameLength} bytes long.", nameof(settings));
        }

        _network = network;
        _settings = settings;
        _seeds = seeds;
        _onChanged = onChanged;
        _logger = logger;
        _time = timeProvider;
        _self = new MemberUpdate(settings.NodeName, settings.Incarnation, 0, MeshNodeStatus.Up, settings.AdvertisedEndpoint, settings.Capabilities.ToFrozenSet(StringComparer.Ordinal));
        _selfNode = ToNode(_self);
        _version = 1;
        _current = new MembershipSnapshot(_version, _selfNode, [_selfNode]);
        _stopping = _stop.Token;
    }

    /// <summary>Creates the membership of a node that listens: its settings from <paramref name="options"/>, its seeds
    /// from the static list and DNS discovery, its views applied to <paramref name="runtime"/>, and the runtime's
    /// capability registrations announced through it. Start it with <see cref="StartAsync"/> once the node accepts
    /// connections, and register it as the handler of <see cref="ClusterService.Membership"/>.</summary>
    /// <param name="runtime">The node.</param>
    /// <param name="network">How the node reaches the others.</param>
    /// <param name="options">The node's options.</param>
    /// <param name="advertisedEndpoint">The <c>host:port</c> other nodes reach this node on.</param>
    /// <param name="loggerFactory">Where membership logs (category <c>Mesh.Membership</c>).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    public static MembershipService Create(Runtime.MeshRuntime runtime, IPeerNetwork network, MeshOptions options, string advertisedEndpoint, ILoggerFactory loggerFactory, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        MeshNode self = runtime.Self;
        MembershipSettings settings = MembershipSettings.From(options, options.NodeName ?? self.Name, self.Incarnation, advertisedEndpoint, runtime.Capabilities);
        ILogger logger = loggerFactory.CreateLogger("Mesh.Membership");
        TimeProvider time = timeProvider ?? TimeProvider.System;
        var service = new MembershipService(network, settings, SeedSource.From(settings, time, logger), runtime.ApplyMembership, logger, time);
        runtime.Announcer = service;
        return service;
    }

    /// <summary>Gets the current view.</summary>
    public MembershipSnapshot Current => Volatile.Read(ref _current);

    public MembershipMetrics Metrics { get; } = new();

    private MemberId SelfId => new(_settings.NodeName, _settings.Incarnation);

    /// <summary>Publishes the first view, tries the seeds once, and starts probing, state exchanges and (while alone)
    /// joining in the background. Returns once the first join attempt ended, within the state exchange timeout,
    /// whether a seed answered or not.</summary>
    /// <exception cref="MeshMembershipException">A seed refused this node: a setting that must agree differs.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The membership service is started already.");
        }

        lock (_gate)
        {
            _views.Enqueue((_current, []));
        }

        Publish();
        await TryJoinAsync(cancellationToken).ConfigureAwait(false);
        if (_refusal is { } refusal)
        {
            throw refusal;
        }

        CancellationToken stopping = _stopping;
        _loops = Task.WhenAll(
            Task.Run(() => RunLoopAsync("probe", _settings.ProbeInterval, ProbeRoundAsync, stopping), CancellationToken.None),
            Task.Run(() => RunLoopAsync("sync", _settings.SyncInterval, SyncRoundAsync, stopping), CancellationToken.None),
            Task.Run(() => RunLoopAsync("join", _settings.JoinRetryInterval, JoinRoundAsync, stopping), CancellationToken.None));
    }

    /// <summary>Announces to every member that this node leaves, waits for their acknowledgements at most
    /// <see cref="MembershipSettings.LeaveTimeout"/>, then stops probing. Receivers mark the node left at once.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        MemberUpdate left;
        List<string> endpoints = [];
        var changes = new ChangeSet(this);
        lock (_gate)
        {
            if (_left)
            {
                return;
            }

            _left = true;
            _self = left = _self with { Status = MeshNodeStatus.Left, Epoch = _self.Epoch + 1 };
            _selfNode = ToNode(_self);
            changes.Add(MembershipChangeKind.Left, _selfNode);
            foreach (Member member in _members.Values)
            {
                if (member.IsLive && member.State.Endpoint is { } endpoint)
                {
                    endpoints.Add(endpoint);
                }
            }

            Commit(changes);
        }

        Publish();
        byte[] message = MembershipCodec.Write(new MembershipMessage { Type = MembershipMessageType.Gossip, Sender = SelfId, Updates = [left] });
        var tasks = new Task<bool>[endpoints.Count];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = TellLeftAsync(endpoints[i], message, cancellationToken);
        }

        bool[] acknowledged = await Task.WhenAll(tasks).ConfigureAwait(false);
        MembershipLog.LeftCluster(_logger, acknowledged.Count(static a => a), tasks.Length);
        await StopLoopsAsync().ConfigureAwait(false);
    }

    public ValueTask AnnounceCapabilitiesAsync(IReadOnlySet<string> capabilities, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var changes = new ChangeSet(this);
        lock (_gate)
        {
            if (_self.Capabilities.SetEquals(capabilities))
            {
                return default;
            }

            _self = _self with { Capabilities = capabilities.ToFrozenSet(StringComparer.Ordinal), Epoch = _self.Epoch + 1 };
            _selfNode = ToNode(_self);
            Enqueue(_self);
            changes.Add(MembershipChangeKind.CapabilitiesChanged, _selfNode);
            Commit(changes);
        }

        Publish();
        return default;
    }

    public ValueTask HandleRequestAsync(ReadOnlySequence<byte> payload, IBufferWriter<byte> response, PeerIdentity peer, CancellationToken cancellationToken)
    {
        MembershipMessage message = Decode(payload, peer.Subject);
        switch (message.Type)
        {
            case MembershipMessageType.Ping:
            case MembershipMessageType.Gossip:
                Merge(message.Updates);
                MembershipCodec.Write(response, BuildMessage(MembershipMessageType.Ack, peer: message.Sender));
                break;
            case MembershipMessageType.Sync:
                HandleSync(message, response, peer);
                break;
            default:
                Metrics.Malformed();
                throw new MeshProtocolException($"A membership {message.Type} is not a request.");
        }

        return default;
    }

    public ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload, PeerIdentity peer, CancellationToken cancellationToken)
    {
        MembershipMessage message = Decode(payload, peer.Subject);
        Merge(message.Updates);
        switch (message.Type)
        {
            case MembershipMessageType.PingRequest:
                ServeIndirectProbe(message);
                break;
            case MembershipMessageType.PingRequestAck:
                if (_indirectProbes.TryGetValue(message.Sequence, out TaskCompletionSource<bool>? pending))
                {
                    pending.TrySetResult(message.Reached);
                }

                break;
            case MembershipMessageType.Gossip:
                break;
            default:
                Metrics.Malformed();
                throw new MeshProtocolException($"A membership {message.Type} is not a one-way message.");
        }

        return default;
    }

    public async ValueTask DisposeAsync()
    {
        await StopLoopsAsync().ConfigureAwait(false);
        _stop.Dispose();
        Metrics.Dispose();
    }

    /// <summary>One probe round: probe the next member; on no answer ask helpers; still nothing: suspect it. Then
    /// declare down the suspects whose time ran out and forget old tombstones.</summary>
    internal async Task ProbeRoundAsync(CancellationToken cancellationToken)
    {
        MemberUpdate? target;
        lock (_gate)
        {
            target = NextProbeTarget();
        }

        if (target is not null)
        {
            await ProbeAsync(target, cancellationToken).ConfigureAwait(false);
        }

        var changes = new ChangeSet(this);
        lock (_gate)
        {
            ExpireSuspicionsAndTombstones(changes);
            Commit(changes);
        }

        Publish();
    }

    /// <summary>One state exchange with a random live member, and one with a random member that is down, in case it
    /// was only cut off (that is how the two sides of a healed partition find each other again).</summary>
    internal async Task SyncRoundAsync(CancellationToken cancellationToken)
    {
        string? live = null;
        string? down = null;
        lock (_gate)
        {
            live = RandomEndpoint(static m => m.IsLive);
            down = RandomEndpoint(static m => m.State.Status == MeshNodeStatus.Down);
        }

        foreach (string? endpoint in new[] { live, down })
        {
            if (endpoint is null)
            {
                continue;
            }

            try
            {
                await ExchangeStateAsync(endpoint, isJoin: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
            {
                MembershipLog.SyncFailed(_logger, endpoint, exception);
            }
        }
    }

    private async Task JoinRoundAsync(CancellationToken cancellationToken)
    {
        bool alone;
        lock (_gate)
        {
            alone = !_left && _refusal is null && !HasLiveMember();
        }

        if (alone)
        {
            await TryJoinAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task TryJoinAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<string> all = await _seeds.GetSeedsAsync(cancellationToken).ConfigureAwait(false);
        List<string> seeds = [];
        foreach (string seed in all)
        {
            // A node listed in its own seed list skips itself; one that reaches itself under another name is
            // recognised by the answer's sender.
            if (!string.Equals(seed, _settings.AdvertisedEndpoint, StringComparison.OrdinalIgnoreCase))
            {
                seeds.Add(seed);
            }
        }

        if (seeds.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seeds));
        }

        int fanout = Math.Min(JoinFanout, seeds.Count);
        var attempts = new Task<bool>[fanout];
        for (int i = 0; i < fanout; i++)
        {
            attempts[i] = TryJoinThroughAsync(seeds[i], cancellationToken);
        }

        bool[] joined = await Task.WhenAll(attempts).ConfigureAwait(false);
        if (Array.IndexOf(joined, true) >= 0)
        {
            _warnedNoSeed = false;
            return;
        }

        if (!_warnedNoSeed && _refusal is null)
        {
            _warnedNoSeed = true;
            MembershipLog.NoSeedAnswered(_logger, string.Join(", ", seeds), _settings.JoinRetryInterval);
        }
    }

    private async Task<bool> TryJoinThroughAsync(string seed, CancellationToken cancellationToken)
    {
        try
        {
            if (await ExchangeStateAsync(seed, isJoin: true, cancellationToken).ConfigureAwait(false))
            {
                MembershipLog.Joined(_logger, seed, Current.Members.Length);
                return true;
            }
        }
        catch (MeshMembershipException refusal)
        {
            MembershipLog.JoinRefused(_logger, seed, refusal.Message);
            Interlocked.CompareExchange(ref _refusal, refusal, null);
        }
        catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
        {
            MembershipLog.JoinAttemptFailed(_logger, seed, exception);
        }

        return false;
    }

    /// <summary>Pushes this node's whole view to <paramref name="endpoint"/> and merges the view it answers with.</summary>
    /// <returns>Whether another node answered (false when the endpoint turned out to be this node).</returns>
    private async Task<bool> ExchangeStateAsync(string endpoint, bool isJoin, CancellationToken cancellationToken)
    {
        byte[] push;
        lock (_gate)
        {
            push = MembershipCodec.Write(new MembershipMessage
            {
                Type = MembershipMessageType.Sync,
                Sender = SelfId,
                ProtocolVersion = _settings.ProtocolVersion,
                ClusterName = _settings.ClusterName,
                ShardCount = _settings.ShardCount,
                IsJoin = isJoin,
                Updates = FullState(),
            });
        }

        using FramePayload answer = await _network.RequestAsync(endpoint, ClusterService.Membership, push, StateExchangeTimeout, cancellationToken).ConfigureAwait(false);
        MembershipMessage reply = Decode(answer.Span, endpoint);
        if (reply.Type == MembershipMessageType.Refused)
        {
            throw new MeshMembershipException(reply.RefusedSetting, $"The cluster refused this node ({endpoint} answered): {reply.RefusalMessage}");
        }

        if (reply.Type != MembershipMessageType.SyncAck)
        {
            Metrics.Malformed();
            throw new MeshProtocolException($"{endpoint} answered a state exchange with a {reply.Type}.");
        }

        if (reply.Sender == SelfId)
        {
            return false;
        }

        Merge(reply.Updates);
        return true;
    }

    private TimeSpan StateExchangeTimeout => _settings.ProbeTimeout * 4;

    private void HandleSync(MembershipMessage message, IBufferWriter<byte> response, PeerIdentity peer)
    {
        string? refusal = message.ProtocolVersion != _settings.ProtocolVersion ? nameof(MembershipSettings.ProtocolVersion)
            : !string.Equals(message.ClusterName, _settings.ClusterName, StringComparison.Ordinal) ? nameof(MeshOptions.ClusterName)
            : message.ShardCount != _settings.ShardCount ? nameof(MeshOptions.ShardCount)
            : null;
        if (refusal is not null)
        {
            string reason = refusal switch
            {
                nameof(MembershipSettings.ProtocolVersion) => $"ProtocolVersion is {message.ProtocolVersion} on {message.Sender} but {_settings.ProtocolVersion} on {SelfId}: run the same Mesh version on every node.",
                nameof(MeshOptions.ClusterName) => $"ClusterName is '{message.ClusterName}' on {message.Sender} but '{_settings.ClusterName}' on {SelfId}: every node of a cluster must use the same Mesh:ClusterName.",
                _ => $"ShardCount is {message.ShardCount} on {message.Sender} but {_settings.ShardCount} on {SelfId}: every node of a cluster must use the same Mesh:ShardCount.",
            };
            Metrics.JoinRefused();
            MembershipLog.RefusedNode(_logger, message.Sender.ToString(), peer.Subject, reason);
            MembershipCodec.Write(response, new MembershipMessage { Type = MembershipMessageType.Refused, Sender = SelfId, RefusedSetting = refusal, RefusalMessage = reason });
            return;
        }

        if (message.Sender != SelfId)
        {
            if (message.IsJoin)
            {
                MembershipLog.JoinedThroughThisNode(_logger, message.Sender.ToString(), peer.Subject);
            }

            Merge(message.Updates);
        }

        lock (_gate)
        {
            MembershipCodec.Write(response, new MembershipMessage { Type = MembershipMessageType.SyncAck, Sender = SelfId, Updates = FullState() });
        }
    }

    private async Task ProbeAsync(MemberUpdate target, CancellationToken cancellationToken)
    {
        Metrics.ProbeSent();
        PingOutcome outcome = await PingAsync(target.Endpoint!, target.Id, _settings.ProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (outcome == PingOutcome.Answered)
        {
            return;
        }

        // Another process answering at the target's endpoint proves the target gone: helpers would reach the same
        // process, so only a silent target is worth indirect probes.
        if (outcome == PingOutcome.NoAnswer && await ProbeIndirectlyAsync(target, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        Metrics.ProbeFailed();
        var changes = new ChangeSet(this);
        lock (_gate)
        {
            if (_members.TryGetValue(target.Name, out Member? member) && member.State.Incarnation == target.Incarnation && member.State.Status == MeshNodeStatus.Up)
            {
                Apply(member.State with { Status = MeshNodeStatus.Suspect }, changes);
            }

            Commit(changes);
        }

        Publish();
    }

    private async Task<bool> ProbeIndirectlyAsync(MemberUpdate target, CancellationToken cancellationToken)
    {
        List<string> helpers = [];
        lock (_gate)
        {
            foreach (Member member in _members.Values)
            {
                if (member.State.Status == MeshNodeStatus.Up && member.State.Endpoint is { } endpoint && member.State.Name != target.Name)
                {
                    helpers.Add(endpoint);
                }
            }

            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(helpers));
        }

        int count = Math.Min(_settings.IndirectProbes, helpers.Count);
        if (count == 0)
        {
            return false;
        }

        var probes = new Task<bool>[count];
        for (int i = 0; i < count; i++)
        {
            probes[i] = AskHelperAsync(helpers[i], target, cancellationToken);
        }

        bool[] reached = await Task.WhenAll(probes).ConfigureAwait(false);
        return Array.IndexOf(reached, true) >= 0;
    }

    private async Task<bool> AskHelperAsync(string helper, MemberUpdate target, CancellationToken cancellationToken)
    {
        long sequence = Interlocked.Increment(ref _sequence);
        var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _indirectProbes[sequence] = answer;
        try
        {
            MembershipMessage request = BuildMessage(MembershipMessageType.PingRequest, target.Id, target.Endpoint!, sequence);
            await _network.SendOneWayAsync(helper, ClusterService.Membership, MembershipCodec.Write(request), cancellationToken).ConfigureAwait(false);
            return await answer.Task.WaitAsync(_settings.IndirectProbeTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
        {
            return false;
        }
        finally
        {
            _indirectProbes.TryRemove(sequence, out _);
        }
    }

    private void ServeIndirectProbe(MembershipMessage request)
    {
        if (Interlocked.Increment(ref _indirectServing) > MaxIndirectProbesServed)
        {
            Interlocked.Decrement(ref _indirectServing);
            return;
        }

        // Off the read loop: the probe waits up to a probe timeout, which must not hold up the requester's connection.
        _ = Task.Run(() => ServeIndirectProbeAsync(request, _stopping), CancellationToken.None);
    }

    private async Task ServeIndirectProbeAsync(MembershipMessage request, CancellationToken cancellationToken)
    {
        try
        {
            PingOutcome outcome = await PingAsync(request.TargetEndpoint, request.Target, _settings.ProbeTimeout, cancellationToken).ConfigureAwait(false);
            MembershipMessage answer = BuildMessage(MembershipMessageType.PingRequestAck, sequence: request.Sequence, reached: outcome == PingOutcome.Answered);
            await _network.SendOneWayAsync(request.ReplyTo, ClusterService.Membership, MembershipCodec.Write(answer), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
        {
            // The requester hears nothing and counts this helper as failed, which is what a lost answer means anyway.
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        finally
        {
            Interlocked.Decrement(ref _indirectServing);
        }
    }

    private async Task<PingOutcome> PingAsync(string endpoint, MemberId target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        MembershipMessage ping = BuildMessage(MembershipMessageType.Ping, target);
        try
        {
            using FramePayload answer = await _network.RequestAsync(endpoint, ClusterService.Membership, MembershipCodec.Write(ping), timeout, cancellationToken).ConfigureAwait(false);
            MembershipMessage ack = Decode(answer.Span, endpoint);
            Merge(ack.Updates);
            return ack.Type == MembershipMessageType.Ack && ack.Sender == target ? PingOutcome.Answered : PingOutcome.SomeoneElse;
        }
        catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
        {
            return PingOutcome.NoAnswer;
        }
    }

    private async Task<bool> TellLeftAsync(string endpoint, byte[] message, CancellationToken cancellationToken)
    {
        try
        {
            using FramePayload answer = await _network.RequestAsync(endpoint, ClusterService.Membership, message, _settings.LeaveTimeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (IsPeerFailure(exception, cancellationToken))
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="round"/> every <paramref name="interval"/>, the first one interval after start
    /// (start did the first join and state exchange); a round that takes longer delays the next, never overlaps it.</summary>
    private async Task RunLoopAsync(string name, TimeSpan interval, Func<CancellationToken, Task> round, CancellationToken cancellationToken)
    {
        try
        {
            TimeSpan wait = interval;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }

                long started = _time.GetTimestamp();
                try
                {
                    await round(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
                {
                    MembershipLog.LoopFailed(_logger, name, interval, exception);
                }

                wait = interval - _time.GetElapsedTime(started);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task StopLoopsAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await _loops.ConfigureAwait(false);
    }

    private MembershipMessage Decode(ReadOnlySequence<byte> payload, string peer) =>
        payload.IsSingleSegment ? Decode(payload.FirstSpan, peer) : Decode(payload.ToArray(), peer);

    private MembershipMessage Decode(ReadOnlySpan<byte> payload, string peer)
    {
        try
        {
            return MembershipCodec.Read(payload);
        }
        catch (MeshProtocolException exception)
        {
            Metrics.Malformed();
            MembershipLog.MalformedMessage(_logger, peer, exception);
            throw;
        }
    }

    /// <summary>Whether <paramref name="exception"/> means the peer did not answer properly (as opposed to this node
    /// stopping).</summary>
    private static bool IsPeerFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    private MembershipMessage BuildMessage(MembershipMessageType type, MemberId target = default, string targetEndpoint = "", long sequence = 0, bool reached = false, MemberId peer = default)
    {
        lock (_gate)
        {
            return new MembershipMessage
            {
                Type = type,
                Sender = SelfId,
                Target = target,
                TargetEndpoint = targetEndpoint,
                ReplyTo = _settings.AdvertisedEndpoint,
                Sequence = sequence,
                Reached = reached,
                Updates = Piggyback(peer),
            };
        }
    }

    private void Merge(IReadOnlyList<MemberUpdate> updates)
    {
        if (updates.Count == 0)
        {
            return;
        }

        var changes = new ChangeSet(this);
        lock (_gate)
        {
            foreach (MemberUpdate update in updates)
            {
                Apply(update, changes);
            }

            Commit(changes);
        }

        Publish();
    }

    /// <summary>Merges what another node says about one member into the view. Rules: a higher incarnation (a newer run)
    /// replaces the member, a lower one is stale; within a run, Alive needs a higher epoch than what is known,
    /// Suspect and Down the same epoch or higher, and Left is final. About this node itself, a suspicion or death
    /// of the current epoch is refuted by raising the epoch.</summary>
    private void Apply(MemberUpdate update, ChangeSet changes)
    {
        if (update.Name == _self.Name)
        {
            ApplyAboutSelf(update);
            return;
        }

        if (!_members.TryGetValue(update.Name, out Member? member))
        {
            member = new Member(update, ToNode(update), _time.GetTimestamp());
            _members.Add(update.Name, member);
            changes.MembersChanged = true;
            if (member.IsLive)
            {
                _probeOrder.Insert(_random.Next(_probeIndex, _probeOrder.Count + 1), update.Name);
                changes.Add(update.Status == MeshNodeStatus.Up ? MembershipChangeKind.Up : MembershipChangeKind.Suspect, member.Node);
                LogChange(update.Status == MeshNodeStatus.Up ? MembershipChangeKind.Up : MembershipChangeKind.Suspect, member.Node);
                ResolveEndpointConflicts(member, changes);
            }

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
            MeshNode old = member.Node;
            if (member.IsLive)
            {
                MeshNode down = ToNode(known with { Status = MeshNodeStatus.Down });
                changes.Add(MembershipChangeKind.Down, down);
            }

            member.Set(update, ToNode(update), _time.GetTimestamp());
            changes.MembersChanged = true;
            if (member.IsLive)
            {
                changes.Add(update.Status == MeshNodeStatus.Up ? MembershipChangeKind.Up : MembershipChangeKind.Suspect, member.Node);
                MembershipLog.MemberReplaced(_logger, old, member.Node);
                ResolveEndpointConflicts(member, changes);
            }

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

        member.Set(update, kind is null && !capabilitiesChanged ? member.Node : ToNode(update), kind == MembershipChangeKind.Suspect || kind is MembershipChangeKind.Down or MembershipChangeKind.Left ? _time.GetTimestamp() : member.Since);
        Enqueue(update);
        if (kind is { } change)
        {
            changes.Add(change, member.Node);
            LogChange(change, member.Node);
            if (change == MembershipChangeKind.Alive)
            {
                Metrics.Refuted();
                if (!wasLive)
                {
                    _probeOrder.Insert(_random.Next(_probeIndex, _probeOrder.Count + 1), update.Name);
                }
            }

            if (change == MembershipChangeKind.Suspect && known.Status == MeshNodeStatus.Up)
            {
                Metrics.Suspected();
            }
        }

        if (capabilitiesChanged)
        {
            changes.Add(MembershipChangeKind.CapabilitiesChanged, member.Node);
            MembershipLog.CapabilitiesChanged(_logger, member.Node, string.Join(",", update.Capabilities));
        }

        changes.MembersChanged |= kind is not null || capabilitiesChanged;
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
            MembershipLog.NameConflict(_logger, update.Id.ToString());
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
        Metrics.Refuted();
        MembershipLog.Refuting(_logger, epoch, _self.Epoch);
    }

    /// <summary>Two live members cannot listen on one endpoint: the one started last (highest incarnation) holds it,
    /// and any other is a previous process that is gone, so it is declared down at once.</summary>
    private void ResolveEndpointConflicts(Member newcomer, ChangeSet changes)
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

        foreach (Member other in _members.Values)
        {
            if (other != newcomer && other.IsLive && string.Equals(other.State.Endpoint, endpoint, StringComparison.OrdinalIgnoreCase))
            {
                Member older = other.State.Incarnation < newcomer.State.Incarnation ? other : newcomer;
                Apply(older.State with { Status = MeshNodeStatus.Down }, changes);
                if (older == newcomer)
                {
                    return;
                }
            }
        }
    }

    private void ExpireSuspicionsAndTombstones(ChangeSet changes)
    {
        long now = _time.GetTimestamp();
        TimeSpan suspicion = _settings.SuspicionTimeoutFor(_members.Count + 1);
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
                changes.MembersChanged = true;
            }
        }
    }

    private MemberUpdate? NextProbeTarget()
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

    private bool HasLiveMember()
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

    private List<MemberUpdate> FullState()
    {
        var state = new List<MemberUpdate>(_members.Count + 1) { _self };
        foreach (Member member in _members.Values)
        {
            state.Add(member.State);
        }

        return state;
    }

    private void Enqueue(MemberUpdate update)
    {
        for (int i = 0; i < _broadcasts.Count; i++)
        {
            if (_broadcasts[i].Update.Name == update.Name)
            {
                _broadcasts.RemoveAt(i);
                break;
            }
        }

        _broadcasts.Add(new Broadcast(update));
    }

    /// <summary>The updates to piggyback on one message: those sent the fewest times first, each retired after
    /// λ·log2(n + 1) sends. A node that left always adds its leave, so whoever still probes it learns at once; an
    /// answer to a member this node suspects or holds down tells it so, so that it refutes at once even when the news
    /// has long been retired from gossip (a healed partition).</summary>
    private List<MemberUpdate> Piggyback(MemberId peer = default)
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
        int limit = MembershipSettings.RetransmitLimit(_members.Count + 1);
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

        _broadcasts.RemoveAll(b => b.Transmits >= limit);
        return updates;
    }

    /// <summary>Ends a batch of changes (under the lock): a new version and a queued view if anything changed.</summary>
    private void Commit(ChangeSet changes)
    {
        if (!changes.MembersChanged && changes.Changes.Count == 0)
        {
            return;
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
        var snapshot = new MembershipSnapshot(_version, _selfNode, members.MoveToImmutable());
        Volatile.Write(ref _current, snapshot);
        Metrics.SetMembers(byStatus);
        _views.Enqueue((snapshot, [.. changes.Changes]));
    }

    /// <summary>Hands queued views to the callback. Whoever sets the flag drains the queue; others return at once, and
    /// the drainer picks up their views too, so the callback sees one view at a time, in order.</summary>
    private void Publish()
    {
        while (!_views.IsEmpty)
        {
            if (Interlocked.CompareExchange(ref _publishing, 1, 0) != 0)
            {
                return;
            }

            try
            {
                while (_views.TryDequeue(out (MembershipSnapshot Snapshot, MembershipChangedEventArgs[] Changes) view))
                {
                    try
                    {
                        _onChanged(view.Snapshot, view.Changes);
                    }
                    catch (Exception exception)
                    {
                        MembershipLog.ViewHandlerFailed(_logger, exception);
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _publishing, 0);
            }
        }
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

    private enum PingOutcome
    {
        Answered,
        NoAnswer,
        SomeoneElse,
    }

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
        public MemberUpdate Update { get; } = update;

        public int Transmits { get; set; }
    }

    /// <summary>The changes of one batch, all stamped with the version the batch will commit.</summary>
    private sealed class ChangeSet(MembershipService owner)
    {
        private long? _version;

        public List<MembershipChangedEventArgs> Changes { get; } = [];

        public bool MembersChanged { get; set; }

        public long Version => _version ??= owner._version + 1;

        public void Add(MembershipChangeKind kind, MeshNode node) => Changes.Add(new MembershipChangedEventArgs(kind, node, Version));
    }
}
