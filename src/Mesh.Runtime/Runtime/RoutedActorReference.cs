using System.Diagnostics;
using System.Runtime.CompilerServices;
using Mesh.Infrastructure;
using Mesh.Messaging;
using Mesh.Routing;
using Mesh.Transport;
using Mesh.Transport.Framing;

namespace Mesh.Runtime;

/// <summary>
/// What a generated proxy calls: routes every call by the actor's shard to its owner in the current view. When this node
/// owns the id, the call goes to the activation's mailbox here (cached between calls, allocation-free); otherwise it is
/// serialized into a pooled buffer and sent to the owner (<see cref="ClusterService.Call"/>), whose answer is turned
/// into the result or into the exception a local call would have thrown. The owner is cached per routing-table version,
/// so routing takes no lock and allocates only when the view changes.
/// </summary>
internal sealed class RoutedActorReference : ActorReference
{
    /// <summary>How often a call answered <see cref="CallStatus.NotOwner"/> or <see cref="CallStatus.ShuttingDown"/> is
    /// retried, within its timeout: views settle within a few gossip rounds, and the bound keeps a call that can never be
    /// placed from looping until its timeout at full speed.</summary>
    internal const int MaxRetries = 50;

    /// <summary>The first wait before a retry; it doubles each time up to <see cref="MaxRetryDelay"/>.</summary>
    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(5);

    /// <summary>The longest wait between retries: a membership change takes a probe interval (1 s by default) to spread,
    /// so waiting longer than a fraction of it only adds latency.</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Not a status on the wire: the call could not be sent (see <see cref="PeerUnreachableException"/>).</summary>
    private const CallStatus Unsent = (CallStatus)byte.MaxValue;

    private readonly MeshRuntime _runtime;
    private readonly int _shard;
    private Activation? _activation;
    private Route? _route;
    private byte[]? _target;

    public RoutedActorReference(MeshRuntime runtime, ActorContract contract, ActorId id)
        : base(id)
    {
        _runtime = runtime;
        Contract = contract;
        _shard = ShardHash.ShardOf(id.Key, runtime.ShardCount);
    }

    public ActorContract Contract { get; }

    /// <summary>Gets the envelope's target fields, encoded on the first remote call.</summary>
    private byte[] Target => _target ??= CallEnvelope.EncodeTarget(Id);

    public override ValueTask<TResponse> InvokeAsync<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
        => _runtime.Metrics.CallsObserved
            ? InvokeObservedAsync<TRequest, TActor, TResponse>(request, cancellationToken)
            : Invoke<TRequest, TActor, TResponse>(in request, cancellationToken);

    /// <summary>Routes and runs a call without looking at telemetry: what <see cref="InvokeAsync"/> does when nobody
    /// listens (internal for the benchmark that measures what the listener check costs).</summary>
    internal ValueTask<TResponse> Invoke<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        Route route = CurrentRoute();
        if (route.IsLocal)
        {
            return InvokeLocal<TRequest, TActor, TResponse>(in request, cancellationToken);
        }

        if (route.Owner is null)
        {
            _runtime.Metrics.CallRejected();
            return ValueTask.FromException<TResponse>(new CapabilityUnavailableException(Id.Capability));
        }

        return InvokeRemoteAsync<TRequest, TActor, TResponse>(request, cancellationToken);
    }

    public override ValueTask InvokeVoidAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
    {
        ValueTask<VoidResponse> pending = InvokeAsync<TRequest, TActor, VoidResponse>(in request, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            _ = pending.Result;
            return default;
        }

        return AwaitAsync(pending);

        static async ValueTask AwaitAsync(ValueTask<VoidResponse> pending) => await pending.ConfigureAwait(false);
    }

    public override ValueTask SendAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
        => _runtime.Metrics.CallsObserved
            ? SendObservedAsync<TRequest, TActor>(request, cancellationToken)
            : Send<TRequest, TActor, VoidResponse>(in request, cancellationToken);

    /// <summary>Routes a one-way message (generic over the response type so that a rerouted <see cref="CallItem{TRequest, TActor, TResponse}"/>
    /// can use it).</summary>
    internal ValueTask Send<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Route route = CurrentRoute();
        if (route.IsLocal)
        {
            try
            {
                CallItem<TRequest, TActor, TResponse>.Send(Resolve(), in request);
                return default;
            }
            catch (MeshException exception)
            {
                return ValueTask.FromException(exception);
            }
        }

        if (route.Owner is null)
        {
            _runtime.Metrics.CallRejected();
            return ValueTask.FromException(new CapabilityUnavailableException(Id.Capability));
        }

        return SendRemoteAsync<TRequest, TActor, TResponse>(request, route.Owner, cancellationToken);
    }

    /// <summary>A call while somebody listens: the same call inside a span, counted and timed. An async method of its own,
    /// so the span is <see cref="Activity.Current"/> for the call (and for an inline turn's actor code) and the caller's
    /// current activity is back when it returns; its state machine is pooled.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResponse> InvokeObservedAsync<TRequest, TActor, TResponse>(TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        using Activity? activity = StartObserved(TRequest.MethodId, TRequest.MethodName, oneWay: false, out bool remote, out long started);
        try
        {
            TResponse result = await Invoke<TRequest, TActor, TResponse>(in request, cancellationToken).ConfigureAwait(false);
            EndObserved(activity, null, remote, started);
            return result;
        }
        catch (Exception exception)
        {
            EndObserved(activity, exception, remote, started);
            throw;
        }
    }

    /// <summary>A one-way message while somebody listens: as <see cref="InvokeObservedAsync"/>, ending when it is queued
    /// or sent.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendObservedAsync<TRequest, TActor>(TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, VoidResponse>
        where TActor : class, IMeshActor
    {
        using Activity? activity = StartObserved(TRequest.MethodId, TRequest.MethodName, oneWay: true, out bool remote, out long started);
        try
        {
            await Send<TRequest, TActor, VoidResponse>(in request, cancellationToken).ConfigureAwait(false);
            EndObserved(activity, null, remote, started);
        }
        catch (Exception exception)
        {
            EndObserved(activity, exception, remote, started);
            throw;
        }
    }

    /// <summary>Starts observing a call: where it goes, when it started and, when spans are listened to, its span.</summary>
    private Activity? StartObserved(uint methodId, string method, bool oneWay, out bool remote, out long started)
    {
        remote = !CurrentRoute().IsLocal;
        started = Stopwatch.GetTimestamp();
        return MeshTelemetry.Source.HasListeners()
            ? MeshTelemetry.StartCall(Contract, methodId, method, Id, _runtime.Self.Name, remote, oneWay)
            : null;
    }

    /// <summary>Counts and times an observed call, and marks its span failed when it threw.</summary>
    private void EndObserved(Activity? activity, Exception? exception, bool remote, long started)
    {
        _runtime.Metrics.CallEnded(Id.Capability, exception is null ? CallOutcome.Ok : CallOutcome.Of(exception), remote, started);
        if (activity is not null && exception is not null)
        {
            MeshTelemetry.Fail(activity, exception);
        }
    }

    private static TimeSpan NextDelay(TimeSpan delay) => delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;

    private ValueTask<TResponse> InvokeLocal<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        Activation activation;
        try
        {
            activation = Resolve();
        }
        catch (MeshException exception)
        {
            return ValueTask.FromException<TResponse>(exception);
        }

        return CallItem<TRequest, TActor, TResponse>.Invoke(activation, in request, cancellationToken);
    }

    /// <summary>A call to another node: sends it to the owner in this node's view and reads the answer, routing again
    /// and retrying (below) while the owner refuses it or cannot be reached and time is left. One async method for the
    /// attempt and the retries, so a call that succeeds at once suspends and resumes one state machine.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResponse> InvokeRemoteAsync<TRequest, TActor, TResponse>(TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        TimeSpan timeout = _runtime.DefaultCallTimeout;
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        TimeSpan delay = FirstRetryDelay;
        Exception? refusal = null;
        for (int attempt = 0; ; attempt++)
        {
            Route route = CurrentRoute();
            if (route.IsLocal)
            {
                // The view changed while retrying and this node owns the id now.
                return await InvokeLocal<TRequest, TActor, TResponse>(in request, cancellationToken).ConfigureAwait(false);
            }

            if (route.Owner is not { } owner)
            {
                _runtime.Metrics.CallRejected();
                throw new CapabilityUnavailableException(Id.Capability);
            }

            long remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                // Out of time while retrying: why the call could not be placed says more than that time ran out.
                if (refusal is not null)
                {
                    throw refusal;
                }

                _runtime.Metrics.TimedOut();
                throw new MeshTimeoutException(Id, TRequest.MethodName, timeout);
            }

            // One attempt: send the call to the owner and read its answer's status.
            IPeerNetwork network = Network(owner);
            (string? traceParent, string? traceState) = Trace(owner);
            PooledBufferWriter buffer = PooledBufferWriter.Rent();
            FramePayload answer;
            Exception? unsent = null;
            try
            {
                CallEnvelope.Write(buffer, CallFlags.None, hops: 0, TRequest.MethodId, (uint)Math.Min(remaining, uint.MaxValue - 1), Target, traceParent, traceState);
                TRequest.Write(buffer, in request);
                answer = await network.RequestAsync(owner.Endpoint!, ClusterService.Call, buffer.WrittenMemory, TimeSpan.FromMilliseconds(remaining), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                answer = default;
                unsent = exception;
            }
            finally
            {
                buffer.Return();
            }

            CallStatus status;
            Exception failure;
            if (unsent is null)
            {
                using (answer)
                {
                    status = CallResponse.ReadStatus(answer.Span);
                    if (status == CallStatus.Ok)
                    {
                        return TRequest.ReadResponse(new System.Buffers.ReadOnlySequence<byte>(answer.Memory[1..]));
                    }

                    failure = CallResponse.ToException(answer.Span, Id, TRequest.MethodName, timeout);
                }
            }
            else
            {
                status = unsent is PeerUnreachableException ? Unsent : CallStatus.ProtocolError;
                failure = Translate(unsent, owner, TRequest.MethodName, timeout, cancellationToken);
            }

            // NotOwner and ShuttingDown: the owner refused it. Unsent: no connection to the owner could be opened, so
            // the call never left; routing again sends it wherever the view points once the owner is back or declared
            // down.
            bool retryable = status is CallStatus.NotOwner or CallStatus.ShuttingDown or Unsent;
            if (!retryable || attempt >= MaxRetries || deadline - Environment.TickCount64 <= delay.TotalMilliseconds)
            {
                if (status == CallStatus.Timeout)
                {
                    _runtime.Metrics.TimedOut();
                }

                throw failure;
            }

            // The owner's view differs from ours or it is leaving: wait for views to settle, then route again.
            refusal = failure;
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = NextDelay(delay);
        }
    }

    private async ValueTask SendRemoteAsync<TRequest, TActor, TResponse>(TRequest request, MeshNode owner, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor
    {
        IPeerNetwork network = Network(owner);
        PooledBufferWriter buffer = PooledBufferWriter.Rent();
        try
        {
            (string? traceParent, string? traceState) = Trace(owner);
            CallEnvelope.Write(buffer, CallFlags.OneWay, hops: 0, TRequest.MethodId, (uint)Math.Min((long)_runtime.DefaultCallTimeout.TotalMilliseconds, uint.MaxValue - 1), Target, traceParent, traceState);
            TRequest.Write(buffer, in request);
            await network.SendOneWayAsync(owner.Endpoint!, ClusterService.Call, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Translate(exception, owner, TRequest.MethodName, _runtime.DefaultCallTimeout, cancellationToken);
        }
        finally
        {
            buffer.Return();
        }
    }

    /// <summary>The trace context a remote call carries (the caller's span, or the application's activity), and the
    /// owner's name on the caller's span.</summary>
    private static (string? TraceParent, string? TraceState) Trace(MeshNode owner)
    {
        if (Activity.Current is null)
        {
            return default;
        }

        MeshTelemetry.TagPeer(owner.Name);
        return MeshTelemetry.CurrentContext();
    }

    private IPeerNetwork Network(MeshNode owner) =>
        owner.Endpoint is not null && _runtime.Network is { } network ? network
        : throw new NodeUnreachableException(Id, owner.Endpoint ?? owner.Name, owner.Endpoint is null
            ? $"the view names {owner.Name} the owner but gives no endpoint for it"
            : "this node has no network to reach other nodes (it does not listen)");

    /// <summary>Turns a failure to send or to get an answer into what a local call would have thrown.</summary>
    private Exception Translate(Exception exception, MeshNode owner, string method, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return new OperationCanceledException(cancellationToken);
            case TimeoutException:
                _runtime.Metrics.TimedOut();
                return new MeshTimeoutException(Id, method, timeout);
            case RemoteRequestException:
                return new MeshProtocolException($"The owner of '{Id}' failed to handle {Id.ActorType}.{method}: {exception.Message}", exception);
            case TransportException:
                // Refused, broken mid-call (ConnectionClosedException) or in its reconnect backoff.
                return new NodeUnreachableException(Id, owner.Endpoint ?? owner.Name, exception.Message, exception);
            case MeshException:
                return exception;
            default:
                return new MeshProtocolException($"Calling {Id.ActorType}.{method} on '{Id}' failed: {exception.Message}", exception);
        }
    }

    private Route CurrentRoute()
    {
        RoutingTable table = _runtime.Routing;
        Route? route = Volatile.Read(ref _route);
        if (route is not null && route.Version == table.Version)
        {
            return route;
        }

        MeshNode? owner = table.OwnerOf(Id.Capability, _shard);
        route = new Route(table.Version, owner, owner is not null && _runtime.IsSelf(owner));
        Volatile.Write(ref _route, route);
        return route;
    }

    private Activation Resolve()
    {
        Activation? activation = _activation;
        if (activation is not null && !activation.IsGone)
        {
            return activation;
        }

        activation = _runtime.GetActivation(Id, Contract);
        _activation = activation;
        return activation;
    }

    /// <summary>The owner of this reference's shard in one routing-table version; replaced, never changed.</summary>
    private sealed class Route(long version, MeshNode? owner, bool isLocal)
    {
        public long Version { get; } = version;

        public MeshNode? Owner { get; } = owner;

        public bool IsLocal { get; } = isLocal;
    }
}
