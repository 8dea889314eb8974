using System.Buffers;
using System.Collections.Concurrent;
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
/// Concurrency: the <see cref="MembershipView"/> (members, the gossip queue, the probe order, this node's own state)
/// is guarded by one lock, held only for in-memory work; network calls happen outside it. Views are queued under the
/// lock and handed to the callback by whichever thread wins the publishing flag, so callbacks never overlap and never
/// reorder.
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
    private readonly MembershipView _view;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<bool>> _indirectProbes = new();
    private readonly ConcurrentQueue<(MembershipSnapshot Snapshot, MembershipChangedEventArgs[] Changes)> _views = new();
    private readonly CancellationTokenSource _stop = new();

    // Kept apart from _stop: work that starts after disposal (a late message) still reads a cancelled token, where
    // _stop.Token would throw. The source is always cancelled before it is disposed.
    private readonly CancellationToken _stopping;
    private MembershipSnapshot _current;
    private long _sequence;
    private int _indirectServing;
    private int _publishing;
    private int _started;
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
        _view = new MembershipView(settings, timeProvider, logger, Metrics);
        _current = _view.Snapshot;
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

    private MemberId SelfId => _view.SelfId;

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
        List<string> endpoints;
        lock (_gate)
        {
            if (_view.HasLeft)
            {
                return;
            }

            MembershipChanges changes = _view.Begin();
            left = _view.Leave(changes);
            endpoints = _view.LiveEndpoints();
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
        lock (_gate)
        {
            MembershipChanges changes = _view.Begin();
            if (!_view.AnnounceCapabilities(capabilities, changes))
            {
                return default;
            }

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
            target = _view.NextProbeTarget();
        }

        if (target is not null)
        {
            await ProbeAsync(target, cancellationToken).ConfigureAwait(false);
        }

        lock (_gate)
        {
            MembershipChanges changes = _view.Begin();
            _view.ExpireSuspicionsAndTombstones(changes);
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
            live = _view.RandomLiveEndpoint();
            down = _view.RandomDownEndpoint();
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
            alone = !_view.HasLeft && _refusal is null && !_view.HasLiveMember();
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

        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(seeds));

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
                Updates = _view.FullState(),
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
            MembershipCodec.Write(response, new MembershipMessage { Type = MembershipMessageType.SyncAck, Sender = SelfId, Updates = _view.FullState() });
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
        lock (_gate)
        {
            MembershipChanges changes = _view.Begin();
            _view.Suspect(target, changes);
            Commit(changes);
        }

        Publish();
    }

    private async Task<bool> ProbeIndirectlyAsync(MemberUpdate target, CancellationToken cancellationToken)
    {
        List<string> helpers;
        lock (_gate)
        {
            helpers = _view.ProbeHelpers(target.Name, _settings.IndirectProbes);
        }

        int count = helpers.Count;
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
                Updates = _view.Piggyback(peer),
            };
        }
    }

    private void Merge(IReadOnlyList<MemberUpdate> updates)
    {
        if (updates.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            MembershipChanges changes = _view.Begin();
            foreach (MemberUpdate update in updates)
            {
                _view.Apply(update, changes);
            }

            Commit(changes);
        }

        Publish();
    }

    /// <summary>Ends a batch (under the lock): queues the new view, if anything changed, for <see cref="Publish"/>.</summary>
    private void Commit(MembershipChanges changes)
    {
        if (_view.Commit(changes) is { } view)
        {
            Volatile.Write(ref _current, view.Snapshot);
            _views.Enqueue(view);
        }
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

    private enum PingOutcome
    {
        Answered,
        NoAnswer,
        SomeoneElse,
    }
}
