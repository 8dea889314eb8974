using System.Buffers;
using System.Diagnostics;
using System.Text;
using Mesh.Infrastructure;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Microsoft.Extensions.Logging;

namespace Mesh.Messaging;

/// <summary>
/// The owner's side of remote calls (<see cref="ClusterService.Call"/>): reads the envelope, and if this node owns the
/// actor in its view, queues the call on the activation's mailbox (<see cref="RemoteCallItem"/>), answering when the
/// turn ends, out of order with other calls on the same connection. A node that does not own the id forwards the call
/// to the owner in its view (at most <see cref="MaxHops"/> times in all) or answers <see cref="CallStatus.NotOwner"/>,
/// which the caller retries. Bad envelopes and unknown actor types get a typed answer and are counted; nothing here
/// throws at the connection.
/// </summary>
internal sealed class CallService : IDeferredClusterServiceHandler
{
    /// <summary>How often a call may be forwarded: once from a node with a stale view to the owner it sees, and once
    /// more while views settle. More hops would only chase views that disagree; the caller retries instead.</summary>
    public const int MaxHops = 2;

    private readonly ILogger _logger;
    private readonly (byte[] ActorType, byte[] Capability, ActorContract Contract)[] _contracts;
    private long _malformed;
    private long _unknownActors;
    private long _forwarded;
    private long _notOwner;

    /// <summary>Initializes a new instance of the <see cref="CallService"/> class.</summary>
    /// <param name="runtime">The node whose actors run the calls; its <see cref="MeshRuntime.Network"/> forwards calls.</param>
    /// <param name="logger">Where refused calls are logged.</param>
    public CallService(MeshRuntime runtime, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(logger);
        Runtime = runtime;
        _logger = logger;
        var contracts = new List<(byte[], byte[], ActorContract)>();
        foreach (ActorImplementation implementation in ActorRegistry.GetImplementations())
        {
            ActorContract contract = implementation.Contract;
            contracts.Add((Encoding.UTF8.GetBytes(contract.ActorType), Encoding.UTF8.GetBytes(contract.Capability), contract));
        }

        _contracts = [.. contracts];
    }

    public MeshRuntime Runtime { get; }

    /// <summary>Gets how many calls had an envelope this node cannot read.</summary>
    public long MalformedCalls => Volatile.Read(ref _malformed);

    /// <summary>Gets how many calls named an actor type this node does not implement.</summary>
    public long UnknownActorCalls => Volatile.Read(ref _unknownActors);

    /// <summary>Gets how many calls this node forwarded to the owner in its view.</summary>
    public long ForwardedCalls => Volatile.Read(ref _forwarded);

    /// <summary>Gets how many calls this node answered with <see cref="CallStatus.NotOwner"/>.</summary>
    public long NotOwnerAnswers => Volatile.Read(ref _notOwner);

    /// <inheritdoc/>
    public void HandleRequest(ReadOnlySequence<byte> payload, DeferredResponse response, PeerIdentity peer) =>
        Accept(payload, response, peer);

    /// <inheritdoc/>
    /// <remarks>The awaited form, for a caller that cannot defer: the answer is written into a pooled buffer by the
    /// call's turn and copied into <paramref name="response"/> when it ends. <see cref="PeerConnections"/> uses
    /// <see cref="HandleRequest"/> instead.</remarks>
    public async ValueTask HandleRequestAsync(ReadOnlySequence<byte> payload, IBufferWriter<byte> response, PeerIdentity peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var answer = new BufferedResponse();
        Accept(payload, new DeferredResponse(answer, answer.Writer, BufferedResponse.Id), peer);
        await answer.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
        response.Write(answer.Writer.WrittenSpan);
    }

    /// <inheritdoc/>
    public ValueTask HandleOneWayAsync(ReadOnlySequence<byte> payload, PeerIdentity peer, CancellationToken cancellationToken)
    {
        Accept(payload, default, peer);
        return default;
    }

    /// <summary>Logs a one-way call that could not be delivered (nobody waits for an answer).</summary>
    internal void OneWayRefused(ActorId id, string reason) => MessagingLog.OneWayRefused(_logger, id, reason);

    private static void AnswerStatus(DeferredResponse response, CallStatus status, string message)
    {
        if (response.IsValid)
        {
            CallResponse.WriteStatus(response.Writer, status, message);
            response.Complete();
        }
    }

    private void Accept(ReadOnlySequence<byte> payload, DeferredResponse response, PeerIdentity peer)
    {
        // The request must outlive this call (it waits in a mailbox): one copy, in a buffer the work item owns from here.
        int length = (int)payload.Length;
        RemoteCallItem item = RemoteCallItem.Rent(length, out byte[] buffer);
        payload.CopyTo(buffer);
        bool handedOff = false;
        try
        {
            handedOff = Route(item, length, response, peer);
        }
        catch (Exception exception)
        {
            // A bug or an unexpected failure: the caller still gets a typed answer and the connection keeps working.
            MessagingLog.CallFailed(_logger, peer.Subject, exception);
            if (response.IsValid)
            {
                response.Clear();
                CallResponse.WriteFailure(response.Writer, exception, Runtime.IsStopping);
                response.Complete();
            }
        }
        finally
        {
            if (!handedOff)
            {
                item.ReturnUnused();
            }
        }
    }

    /// <returns>Whether <paramref name="item"/> was started and queued, or handed to a forward (which returns it).</returns>
    private bool Route(RemoteCallItem item, int length, DeferredResponse response, PeerIdentity peer)
    {
        byte[] buffer = item.Buffer;
        string? error = CallEnvelope.TryRead(buffer.AsSpan(0, length), out CallEnvelope envelope);
        if (error is not null)
        {
            Interlocked.Increment(ref _malformed);
            Runtime.Metrics.CallRejected();
            MessagingLog.MalformedCall(_logger, peer.Subject, error);
            AnswerStatus(response, CallStatus.ProtocolError, error);
            return false;
        }

        ActorContract? contract = FindContract(envelope.ActorType, envelope.Capability);
        if (contract is null)
        {
            Interlocked.Increment(ref _unknownActors);
            Runtime.Metrics.CallRejected();
            string actorType = Encoding.UTF8.GetString(envelope.ActorType);
            string capability = Encoding.UTF8.GetString(envelope.Capability);
            MessagingLog.UnknownActor(_logger, peer.Subject, actorType, capability);
            AnswerStatus(response, CallStatus.UnknownActor, $"The node that received the call implements no actor type {actorType} with capability '{capability}'.");
            return false;
        }

        long deadline = envelope.DeadlineMilliseconds == CallEnvelope.NoDeadline ? long.MaxValue : Environment.TickCount64 + envelope.DeadlineMilliseconds;
        if (Runtime.IsStopping)
        {
            Runtime.Metrics.CallRejected();
            AnswerStatus(response, CallStatus.ShuttingDown, "the node is shutting down");
            return false;
        }

        RoutingTable table = Runtime.Routing;
        MeshNode? owner = table.OwnerOf(contract.Capability, table.ShardFor(envelope.Key));
        if (owner is null)
        {
            Runtime.Metrics.CallRejected();
            AnswerStatus(response, CallStatus.CapabilityUnavailable, new CapabilityUnavailableException(contract.Capability).Message);
            return false;
        }

        if (!Runtime.IsSelf(owner))
        {
            ActorId target = new(contract.Capability, contract.ActorType, Encoding.UTF8.GetString(envelope.Key));
            if (envelope.Hops >= MaxHops || owner.Endpoint is null || Runtime.Network is null)
            {
                Interlocked.Increment(ref _notOwner);
                AnswerStatus(response, CallStatus.NotOwner, $"this node's view (version {table.Version}) makes {owner.Name} the owner and the call was forwarded {envelope.Hops} times already");
                return false;
            }

            Interlocked.Increment(ref _forwarded);
            MessagingLog.Forwarding(_logger, target, owner.Name, envelope.Hops + 1);
            uint remaining = deadline == long.MaxValue ? CallEnvelope.NoDeadline : (uint)Math.Max(0, deadline - Environment.TickCount64);
            CallEnvelope.Rewrite(buffer.AsSpan(0, length), (byte)(envelope.Hops + 1), remaining);
            _ = ForwardAsync(Runtime.Network, owner, target, item, length, envelope.IsOneWay, remaining, response);
            return true;
        }

        // An active actor is found by its key's characters, decoded on the stack: a call to it allocates no key string,
        // however many actors are active. Only a call that activates one makes the string its id keeps.
        Activation? activation = FindActivation(contract, envelope.Key);
        ActorId id;
        if (activation is not null)
        {
            id = activation.Id;
        }
        else
        {
            id = new ActorId(contract.Capability, contract.ActorType, Encoding.UTF8.GetString(envelope.Key));
            try
            {
                activation = Runtime.GetActivation(id, contract);
            }
            catch (MeshException exception)
            {
                if (!response.IsValid)
                {
                    OneWayRefused(id, exception.Message);
                    return false;
                }

                CallResponse.WriteFailure(response.Writer, exception, Runtime.IsStopping);
                response.Complete();
                return false;
            }
        }

        Activity? activity = MeshTelemetry.Source.HasListeners()
            ? MeshTelemetry.StartServerCall(contract, envelope.MethodId, RemoteCallItem.MethodName(contract, envelope.MethodId), id, Runtime.Self.Name, envelope.IsOneWay, envelope.TraceParent, envelope.TraceState)
            : null;
        item.Start(this, length, envelope.BodyOffset, envelope.MethodId, contract, id, response, !response.IsValid, deadline, activity);
        try
        {
            activation.Enqueue(item);
        }
        catch (MailboxFullException exception)
        {
            // The item still owns the buffer and answers for itself.
            item.Fail(exception);
        }

        return true;
    }

    /// <summary>Finds the live activation whose key's UTF-8 bytes are <paramref name="utf8Key"/>, decoding them into a
    /// stack buffer (a rented one for keys over 256 bytes) rather than a string.</summary>
    private Activation? FindActivation(ActorContract contract, ReadOnlySpan<byte> utf8Key)
    {
        const int StackChars = 256;
        char[]? rented = null;
        Span<char> chars = utf8Key.Length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(utf8Key.Length));
        try
        {
            // At most one char per byte; invalid bytes become U+FFFD, as Encoding.UTF8.GetString makes them.
            int length = Encoding.UTF8.GetChars(utf8Key, chars);
            return Runtime.FindActivation(contract, chars[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private async Task ForwardAsync(IPeerNetwork network, MeshNode owner, ActorId id, RemoteCallItem item, int length, bool oneWay, uint remaining, DeferredResponse response)
    {
        byte[] buffer = item.Buffer;
        try
        {
            if (oneWay)
            {
                await network.SendOneWayAsync(owner.Endpoint!, ClusterService.Call, buffer.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                return;
            }

            TimeSpan timeout = remaining == CallEnvelope.NoDeadline ? Runtime.DefaultCallTimeout : TimeSpan.FromMilliseconds(remaining);
            using FramePayload answer = await network.RequestAsync(owner.Endpoint!, ClusterService.Call, buffer.AsMemory(0, length), timeout, CancellationToken.None).ConfigureAwait(false);

            // The owner's answer goes back as it is: this node only relays it.
            IBufferWriter<byte> writer = response.Writer;
            answer.Span.CopyTo(writer.GetSpan(answer.Length));
            writer.Advance(answer.Length);
            response.Complete();
        }
        catch (Exception exception)
        {
            MessagingLog.ForwardFailed(_logger, id, owner.Name, exception);
            if (response.IsValid)
            {
                response.Clear();
                if (exception is TimeoutException)
                {
                    CallResponse.WriteStatus(response.Writer, CallStatus.Timeout, $"the owner {owner.Name} did not answer the forwarded call in time");
                }
                else
                {
                    // Unreachable or gone: the caller's view will change; let it retry.
                    CallResponse.WriteStatus(response.Writer, CallStatus.NotOwner, $"forwarding to the owner {owner.Name} failed: {exception.Message}");
                }

                response.Complete();
            }
        }
        finally
        {
            item.ReturnUnused();
        }
    }

    /// <summary>The answer of <see cref="HandleRequestAsync"/>: written by the call's turn, awaited by the handler.</summary>
    private sealed class BufferedResponse : IDeferredResponseOwner
    {
        public const long Id = 1;
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ArrayBufferWriter<byte> Writer { get; } = new();

        public Task Completion => _completed.Task;

        public void Clear(IBufferWriter<byte> writer, long id) => Writer.Clear();

        public void Complete(IBufferWriter<byte> writer, long id, string? error)
        {
            if (error is not null)
            {
                _completed.TrySetException(new MeshProtocolException(error));
            }
            else if (!_completed.TrySetResult())
            {
                throw new InvalidOperationException("The deferred response was completed already.");
            }
        }
    }

    private ActorContract? FindContract(ReadOnlySpan<byte> actorType, ReadOnlySpan<byte> capability)
    {
        foreach ((byte[] type, byte[] contractCapability, ActorContract contract) in _contracts)
        {
            if (actorType.SequenceEqual(type) && capability.SequenceEqual(contractCapability))
            {
                return contract;
            }
        }

        return null;
    }
}
