using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Mesh.Infrastructure;
using Mesh.Membership;
using Mesh.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Runtime;

/// <summary>
/// The node: implements <see cref="IMesh"/>, owns the activation directory, and routes every call by actor id.
/// On one node routing is local; the capability check decides whether this node may serve the actor at all.
/// </summary>
internal sealed class MeshRuntime : IMesh, IAsyncDisposable
{
    private readonly ConcurrentDictionary<ActorId, Activation> _activations;
    private readonly ConcurrentDictionary<ActorId, Activation>.AlternateLookup<ActivationKey> _activationsByKey;
    private readonly Dictionary<Type, ActorImplementation> _implementations = [];
    private readonly ConcurrentDictionary<Type, Func<IServiceProvider, IActorContext, object>> _factories = new();
    private readonly Lock _capabilityGate = new();
    private readonly IShardStrategy _shardStrategy;
    private readonly Channel<MembershipChangedEventArgs> _membershipEvents = Channel.CreateUnbounded<MembershipChangedEventArgs>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _membershipEventPump;
    private FrozenSet<string> _capabilities = FrozenSet<string>.Empty;
    private MeshNode _self;
    private MeshNode[] _members;
    private long _membershipVersion;
    private RoutingTable _routing;
    private Timer? _idleTimer;
    private volatile bool _stopping;
    private long _retiredCalls;

    public MeshRuntime(IServiceProvider services, IOptions<MeshOptions> options, ILoggerFactory? loggerFactory = null)
    {
        Services = services;
        _activations = new ConcurrentDictionary<ActorId, Activation>(ActivationKeyComparer.Instance);
        _activationsByKey = _activations.GetAlternateLookup<ActivationKey>();
        MeshOptions value = options.Value;
        DefaultCallTimeout = value.DefaultCallTimeout;
        IdleTimeout = value.IdleTimeout;
        ShutdownTimeout = value.ShutdownTimeout;
        MailboxCapacity = value.MailboxCapacity;
        Log = new MeshLog((loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Mesh.Runtime"));
        Metrics = new MeshMetrics(this);
        foreach (ActorImplementation implementation in ActorRegistry.GetImplementations())
        {
            _implementations[implementation.Contract.InterfaceType] = implementation;
        }

        _capabilities = value.Capabilities.ToFrozenSet(StringComparer.Ordinal);
        _shardStrategy = services.GetService<IShardStrategy>() ?? RendezvousShardStrategy.Instance;
        ShardCount = value.ShardCount;
        // The incarnation tells this start of the node from any earlier one with the same name: a node restarted on
        // the same address is a new member, never the old one come back.
        _self = new MeshNode(
            value.NodeName ?? $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}-{Random.Shared.Next():x8}",
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            endpoint: null,
            _capabilities,
            MeshNodeStatus.Up);
        _members = [_self];
        _membershipEventPump = Task.Run(PumpMembershipEventsAsync);
        _routing = RoutingTable.Build(_members, ShardCount, _shardStrategy, version: 1);
    }

    /// <inheritdoc/>
    public event EventHandler<MembershipChangedEventArgs>? MembershipChanged;

    /// <summary>Gets or sets what tells the cluster about this node's capabilities when they change at run time (the
    /// membership service once the node listens); null on a node without an endpoint.</summary>
    internal ICapabilityAnnouncer? Announcer { get; set; }

    /// <summary>Gets or sets how this node reaches the others (set by the hosted service once the node listens); null
    /// on a node without an endpoint.</summary>
    internal Messaging.IPeerNetwork? Network { get; set; }

    /// <inheritdoc/>
    public IReadOnlyList<MeshNode> Members => Volatile.Read(ref _members);

    public int ShardCount { get; }

    public MeshNode Self => Volatile.Read(ref _self);

    /// <summary>Gets the routing table of the current membership view.</summary>
    internal RoutingTable Routing => Volatile.Read(ref _routing);

    public IServiceProvider Services { get; }

    public TimeSpan DefaultCallTimeout { get; }

    public TimeSpan IdleTimeout { get; }

    public TimeSpan ShutdownTimeout { get; }

    public int MailboxCapacity { get; }

    public MeshLog Log { get; }

    public MeshMetrics Metrics { get; }

    public IReadOnlySet<string> Capabilities => Volatile.Read(ref _capabilities);

    /// <summary>Gets a value indicating whether the node is stopping: it takes no new activations and answers remote
    /// calls with <see cref="Messaging.CallStatus.ShuttingDown"/>.</summary>
    public bool IsStopping => _stopping;

    /// <summary>Gets the number of live activations.</summary>
    public int ActivationCount => _activations.Count;

    public T GetActor<T>(string id)
        where T : IMeshActor
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ActorContract contract = ContractCache<T>.Get();
        return (T)contract.CreateProxy(new RoutedActorReference(this, contract, contract.CreateId(id)));
    }

    public ValueTask RegisterCapabilitiesAsync(IEnumerable<string> capabilities, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        cancellationToken.ThrowIfCancellationRequested();
        string[] added = [.. capabilities];
        foreach (string capability in added)
        {
            if (!Runtime.Capabilities.IsValidName(capability))
            {
                throw new ArgumentException($"'{capability}' is not a capability name: use lower-case letters, digits, '_', '.' and '-', starting with a letter.", nameof(capabilities));
            }

            if (!HasImplementation(capability))
            {
                throw new ArgumentException(NoImplementationMessage(capability), nameof(capabilities));
            }
        }

        FrozenSet<string> updatedCapabilities;
        lock (_capabilityGate)
        {
            _capabilities = updatedCapabilities = _capabilities.Union(added).ToFrozenSet(StringComparer.Ordinal);
            MeshNode self = _self;
            Publish(new MeshNode(self.Name, self.Incarnation, self.Endpoint, updatedCapabilities, self.Status), _members);
        }

        // This node serves the new capabilities at once; the others route to it once the announcement reaches them.
        return Announcer is { } announcer ? announcer.AnnounceCapabilitiesAsync(updatedCapabilities, cancellationToken) : default;
    }

    /// <summary>Records the endpoint other nodes reach this one at, once it listens.</summary>
    /// <param name="endpoint">The advertised "host:port".</param>
    internal void SetEndpoint(string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        lock (_capabilityGate)
        {
            MeshNode self = _self;
            Publish(new MeshNode(self.Name, self.Incarnation, endpoint, self.Capabilities, self.Status), _members);
        }
    }

    /// <summary>Adopts a new cluster view: rebuilds the owner tables, rebalances, then queues <see cref="MembershipChanged"/>
    /// for each change (raised in order on the event pump). Views older than the one in effect are ignored. Called by the membership service, one view at a
    /// time.</summary>
    /// <param name="snapshot">The view; its members include this node.</param>
    /// <param name="changes">What changed since the previous view, in order.</param>
    internal void ApplyMembership(MembershipSnapshot snapshot, IReadOnlyList<MembershipChangedEventArgs> changes)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(changes);
        lock (_capabilityGate)
        {
            if (snapshot.Version <= _membershipVersion)
            {
                return;
            }

            // The membership service carries this node's capabilities as it announced them; a registration that is
            // still being announced is already in effect here, so keep the local set.
            MeshNode self = snapshot.Self;
            if (!self.Capabilities.SetEquals(_capabilities))
            {
                self = new MeshNode(self.Name, self.Incarnation, self.Endpoint, _capabilities, self.Status);
            }

            _membershipVersion = snapshot.Version;
            Publish(self, snapshot.Members);
        }

        DeactivateMoved(Routing);
        if (Network is { } network)
        {
            foreach (MembershipChangedEventArgs change in changes)
            {
                if (change.Node.Endpoint is { } endpoint && !IsSelf(change.Node))
                {
                    network.OnMemberChanged(endpoint, change.Kind);
                }
            }
        }

        // Users' handlers run on the event pump, not here: this runs on the membership loop or a connection's read loop,
        // which a slow handler must not stall.
        foreach (MembershipChangedEventArgs change in changes)
        {
            _membershipEvents.Writer.TryWrite(change);
        }
    }

    // One reader, in order: raises MembershipChanged for each queued change until the runtime is disposed. Membership
    // changes are rare (joins, leaves, failures), so the queue is unbounded rather than lossy.
    private async Task PumpMembershipEventsAsync()
    {
        await foreach (MembershipChangedEventArgs change in _membershipEvents.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                MembershipChanged?.Invoke(this, change);
            }
            catch (Exception exception)
            {
                Log.MembershipHandlerFailed(change.Kind, change.Node.Name, exception);
            }
        }
    }

    // Callers hold _capabilityGate. Readers (routing on every call) read the three fields without a lock: each is
    // replaced whole, and a call that sees a table one version old is corrected by the owner (forward or retry).
    private void Publish(MeshNode self, IReadOnlyList<MeshNode> members)
    {
        MeshNode[] updated = ReplaceSelf(members, self);
        RoutingTable previous = _routing;
        RoutingTable table = RoutingTable.Build(updated, ShardCount, _shardStrategy, previous.Version + 1);
        Volatile.Write(ref _self, self);
        Volatile.Write(ref _members, updated);
        Volatile.Write(ref _routing, table);
        if (Metrics.ShardMovesObserved)
        {
            CountShardMoves(previous, table);
        }
    }

    /// <summary>Counts, per capability, the shards whose owner differs between two views (<c>mesh.shard.moves</c>): a
    /// walk over every shard of every capability, done only when somebody listens and only on a membership change.</summary>
    private void CountShardMoves(RoutingTable before, RoutingTable after)
    {
        foreach (string capability in before.AllCapabilities.Union(after.AllCapabilities))
        {
            int moved = 0;
            for (int shard = 0; shard < ShardCount; shard++)
            {
                if (!string.Equals(before.OwnerOf(capability, shard)?.Name, after.OwnerOf(capability, shard)?.Name, StringComparison.Ordinal))
                {
                    moved++;
                }
            }

            if (moved > 0)
            {
                Metrics.ShardsMoved(capability, moved);
            }
        }
    }

    /// <summary>Gets whether <paramref name="node"/> is this node (by name: the routing table holds the same instance
    /// as <see cref="Self"/> or, briefly during an update, its predecessor).</summary>
    public bool IsSelf(MeshNode node)
    {
        MeshNode self = Volatile.Read(ref _self);
        return ReferenceEquals(node, self) || string.Equals(node.Name, self.Name, StringComparison.Ordinal);
    }

    /// <summary>Gets whether the current view makes this node the owner of <paramref name="id"/>.</summary>
    public bool OwnsLocally(ActorId id) => OwnsIn(Routing, id);

    private bool OwnsIn(RoutingTable table, ActorId id) =>
        table.OwnerOf(id.Capability, table.ShardFor(id.Key)) is { } owner && IsSelf(owner);

    /// <summary>Rebalancing: deactivates (drain, then deactivate) every activation whose id <paramref name="table"/> gives
    /// to another node, so that the next call activates it on its new owner.</summary>
    private void DeactivateMoved(RoutingTable table)
    {
        int moved = 0;
        foreach (KeyValuePair<ActorId, Activation> entry in _activations)
        {
            if (!entry.Value.IsGone && !OwnsIn(table, entry.Key))
            {
                entry.Value.RequestDeactivation(DeactivationReason.Rebalanced);
                moved++;
            }
        }

        if (moved > 0)
        {
            Messaging.MessagingLog.Rebalancing(Log.Logger, moved, table.Version);
        }
    }

    private static MeshNode[] ReplaceSelf(IReadOnlyList<MeshNode> members, MeshNode self)
    {
        var builder = new List<MeshNode>(members.Count + 1);
        bool found = false;
        foreach (MeshNode member in members)
        {
            if (string.Equals(member.Name, self.Name, StringComparison.Ordinal))
            {
                builder.Add(self);
                found = true;
            }
            else
            {
                builder.Add(member);
            }
        }

        if (!found)
        {
            builder.Add(self);
        }

        return [.. builder];
    }

    private bool HasImplementation(string capability)
    {
        foreach (ActorImplementation implementation in _implementations.Values)
        {
            if (implementation.Contract.Capability == capability)
            {
                return true;
            }
        }

        return false;
    }

    private static string NoImplementationMessage(string capability)
        => $"This node declares the capability '{capability}', but no class in the application implements an actor contract with [MeshActor(\"{capability}\")]. Add the implementation, or remove the capability from WithCapabilities/Mesh:Capabilities.";

    public int ShardFor(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return ShardHash.ShardOf(id, ShardCount);
    }

    public MeshNode? OwnerOf(string capability, string id)
    {
        ArgumentNullException.ThrowIfNull(capability);
        ArgumentNullException.ThrowIfNull(id);
        return Routing.OwnerOf(capability, ShardHash.ShardOf(id, ShardCount));
    }

    public IReadOnlyList<MeshNode> NodesFor(string capability)
    {
        ArgumentNullException.ThrowIfNull(capability);
        return Routing.NodesFor(capability);
    }

    public IReadOnlySet<string> AllCapabilities() => Routing.AllCapabilities;

    /// <summary>Checks that every capability has an implementation, and starts idle collection.</summary>
    public void Start()
    {
        foreach (string capability in _capabilities)
        {
            if (!HasImplementation(capability))
            {
                throw new InvalidOperationException(NoImplementationMessage(capability));
            }
        }

        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(IdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _idleTimer = new Timer(static state => ((MeshRuntime)state!).CollectIdle(), this, period, period);
        Log.Started(string.Join(", ", _capabilities.Order(StringComparer.Ordinal)));
    }

    /// <summary>Deactivates every activation, waiting at most <see cref="ShutdownTimeout"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (_idleTimer is not null)
        {
            await _idleTimer.DisposeAsync().ConfigureAwait(false);
        }

        var gone = new List<Task>();
        foreach (Activation activation in _activations.Values)
        {
            activation.RequestDeactivation(DeactivationReason.Shutdown);
            gone.Add(activation.Gone);
        }

        try
        {
            await Task.WhenAll(gone).WaitAsync(ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.ShutdownTimedOut(gone.Count(static t => !t.IsCompleted), ShutdownTimeout);
        }
    }

    /// <summary>Finds the live activation of the actor of <paramref name="contract"/> whose key is <paramref name="key"/>,
    /// without making a string of the key, or returns <see langword="null"/>.</summary>
    public Activation? FindActivation(ActorContract contract, ReadOnlySpan<char> key)
        => _activationsByKey.TryGetValue(new ActivationKey(contract.Capability, contract.ActorType, key), out Activation? existing) && !existing.IsGone ? existing : null;

    /// <summary>Finds or creates the activation of <paramref name="id"/>, after checking this node may serve it.</summary>
    public Activation GetActivation(ActorId id, ActorContract? contract = null)
    {
        if (_activations.TryGetValue(id, out Activation? existing) && !existing.IsGone)
        {
            return existing;
        }

        return CreateActivation(id, contract);
    }

    public void Remove(Activation activation)
    {
        if (_activations.TryRemove(new KeyValuePair<ActorId, Activation>(activation.Id, activation)))
        {
            Interlocked.Add(ref _retiredCalls, activation.Calls);
        }
    }

    /// <summary>Reads this node's counters: live activations, and calls run by every activation it has had. A walk over
    /// the activations, for the dashboard and stats requests (once a second or so), never on the call path.</summary>
    public Messaging.NodeStats ReadStats()
    {
        long calls = Volatile.Read(ref _retiredCalls);
        foreach (KeyValuePair<ActorId, Activation> entry in _activations)
        {
            calls += entry.Value.Calls;
        }

        return new Messaging.NodeStats(_activations.Count, calls);
    }

    /// <summary>Reads the mailboxes of the live activations: messages waiting in all of them, and in the fullest. A walk
    /// over the activations, done when a metrics listener collects (<c>mesh.mailbox.*</c>), never on the call path.</summary>
    public (long Queued, int Deepest) ReadMailboxes()
    {
        long queued = 0;
        int deepest = 0;
        foreach (KeyValuePair<ActorId, Activation> entry in _activations)
        {
            int depth = entry.Value.QueuedCount;
            queued += depth;
            deepest = Math.Max(deepest, depth);
        }

        return (queued, deepest);
    }

    public IMeshActor CreateInstance(ActorImplementation implementation, IServiceProvider services, IActorContext context)
        => (IMeshActor)_factories.GetOrAdd(implementation.ImplementationType, static (_, i) => CreateFactory(i.ImplementationType), implementation)(services, context);

    public async ValueTask DisposeAsync()
    {
        if (!_stopping)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _membershipEvents.Writer.TryComplete();
        await _membershipEventPump.ConfigureAwait(false);
        Metrics.Dispose();
    }

    private Activation CreateActivation(ActorId id, ActorContract? contract)
    {
        if (_stopping)
        {
            Metrics.CallRejected();
            throw new MeshException($"This Mesh node is shutting down; {id} cannot be activated.");
        }

        if (!Volatile.Read(ref _capabilities).Contains(id.Capability))
        {
            Metrics.CallRejected();
            throw new CapabilityUnavailableException(id.Capability);
        }

        contract ??= FindContract(id);
        if (!_implementations.TryGetValue(contract.InterfaceType, out ActorImplementation? implementation))
        {
            Metrics.CallRejected();
            throw new ActorActivationException(id, $"No class in this application implements {contract.InterfaceType.FullName}; add one to the project that runs this node.");
        }

        while (true)
        {
            Activation activation = _activations.GetOrAdd(id, static (key, state) => new Activation(state.Runtime, key, state.Implementation), (Runtime: this, Implementation: implementation));
            if (!activation.IsGone)
            {
                return activation;
            }

            // Deactivated between the lookup and now: remove it and try again.
            Remove(activation);
        }
    }

    private ActorContract FindContract(ActorId id)
    {
        foreach (ActorImplementation implementation in _implementations.Values)
        {
            if (implementation.Contract.ActorType == id.ActorType && implementation.Contract.Capability == id.Capability)
            {
                return implementation.Contract;
            }
        }

        throw new ActorActivationException(id, $"No actor contract named {id.ActorType} with capability '{id.Capability}' is implemented in this application.");
    }

    private void CollectIdle()
    {
        long idleSince = Environment.TickCount64 - (long)IdleTimeout.TotalMilliseconds;
        foreach (KeyValuePair<ActorId, Activation> entry in _activations)
        {
            if (entry.Value.IsIdleSince(idleSince))
            {
                entry.Value.RequestDeactivation(DeactivationReason.Idle);
            }
        }
    }

    /// <summary>Builds the constructor call of an implementation once: DI supplies every parameter, and the activation's
    /// <see cref="IActorContext"/> is passed to constructors that ask for it.</summary>
    private static Func<IServiceProvider, IActorContext, object> CreateFactory([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type type)
    {
        bool takesContext = type.GetConstructors().Any(static c => c.GetParameters().Any(static p => p.ParameterType == typeof(IActorContext)));
        if (takesContext)
        {
            ObjectFactory withContext = ActivatorUtilities.CreateFactory(type, [typeof(IActorContext)]);
            return (services, context) => withContext(services, [context]);
        }

        ObjectFactory plain = ActivatorUtilities.CreateFactory(type, []);
        return (services, _) => plain(services, null);
    }

    /// <summary>The contract of <typeparamref name="T"/>, resolved once.</summary>
    private static class ContractCache<T>
    {
        private static ActorContract? s_contract;

        public static ActorContract Get() => s_contract ??= Find();

        private static ActorContract Find()
        {
            for (int attempt = 0; attempt < 2; attempt++)
            {
                foreach (ActorContract contract in ActorRegistry.GetContracts())
                {
                    if (contract.InterfaceType == typeof(T))
                    {
                        return contract;
                    }
                }

                // The contract's assembly may not have run its generated registration yet.
                RuntimeHelpers.RunModuleConstructor(typeof(T).Module.ModuleHandle);
            }

            throw new InvalidOperationException(
                $"{typeof(T).FullName} is not a Mesh actor contract: mark it [MeshActor(\"capability\")] and make sure its project references Mesh.Sdk, so that the Mesh generator emits its proxy.");
        }
    }
}
