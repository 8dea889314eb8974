using System.Buffers;
using System.Diagnostics;
using Mesh.Infrastructure;
using Mesh.Runtime;
using Mesh.Transport.Framing;

namespace Mesh.Messaging;

/// <summary>
/// A call that arrived from another node, in the owner's mailbox: it holds the serialized request (a copy of the
/// frame, in a buffer the item keeps between uses when the request is small), runs it as one turn through the
/// contract's generated dispatcher, and writes the answer into the deferred response of the connection it came on.
/// Pooled; it returns to the pool when the answer is sent.
/// </summary>
/// <remarks>
/// The caller's deadline travels with the call. While the turn runs, <see cref="CallDeadlines"/> enforces it: at the
/// deadline the token the actor was given is cancelled (the caller has stopped waiting by then). A call still queued at
/// its deadline is answered without running.
/// </remarks>
internal sealed class RemoteCallItem : TimedWorkItem
{
    /// <summary>The longest request copied into the item's own buffer; longer ones use a pooled array.</summary>
    internal const int MaxOwnBufferLength = 1024;

    private const int PoolLimit = 1024;

    private readonly Action _onPendingCompleted;
    private CallService? _service;
    private byte[]? _buffer;
    private byte[]? _ownBuffer;
    private int _length;
    private int _bodyOffset;
    private uint _methodId;
    private ActorContract? _contract;
    private ActorId _id;
    private DeferredResponse _response;
    private bool _oneWay;
    private long _deadline;
    private CancellationTokenSource? _cts;
    private Activation? _activation;
    private ValueTask _pending;
    private Activity? _activity;
    // Bit 0: the deadline sweep has taken this use's token to cancel it; the other bits count the item's uses, so a sweep
    // that runs late, after the item was recycled, cannot cancel the next use's token (it compares the whole value).
    private int _use;

    private RemoteCallItem()
    {
        _onPendingCompleted = OnPendingCompleted;
    }

    /// <summary>Rents an item and the buffer the request's <paramref name="length"/> bytes are to be copied into: the
    /// item's own (kept between uses) for a request of at most <see cref="MaxOwnBufferLength"/> bytes, a pooled array
    /// otherwise. The item owns the buffer from here: <see cref="Start"/> it, or give it back with
    /// <see cref="ReturnUnused"/>.</summary>
    /// <remarks>A request arrives on a connection's read loop and is answered on the actor's turn, usually on another
    /// thread, so a buffer from <see cref="ArrayPool{T}.Shared"/> missed its per-thread cache on both sides and took
    /// the lock of a per-core stack twice per call (2.6 % of a serving node's time in the three-node sustained
    /// benchmark); the item itself comes from a lock-free pool.</remarks>
    public static RemoteCallItem Rent(int length, out byte[] buffer)
    {
        if (!ThreadCachedPool<RemoteCallItem>.TryRent(out RemoteCallItem? item))
        {
            item = new RemoteCallItem();
        }

        buffer = length <= MaxOwnBufferLength
            ? item._ownBuffer ??= new byte[MaxOwnBufferLength]
            : ArrayPool<byte>.Shared.Rent(length);
        item._buffer = buffer;
        return item;
    }

    /// <summary>Gets the buffer <see cref="Rent"/> handed out with this item (the request's bytes).</summary>
    public byte[] Buffer => _buffer ?? throw new InvalidOperationException("The item has no request buffer.");

    /// <summary>Makes this item the call whose request is the first <paramref name="length"/> bytes of
    /// <see cref="Buffer"/>, with <paramref name="activity"/>, the owner's span of the call (ended when the call is
    /// answered).</summary>
    public void Start(CallService service, int length, int bodyOffset, uint methodId, ActorContract contract, ActorId id, DeferredResponse response, bool oneWay, long deadline, Activity? activity = null)
    {
        _service = service;
        _length = length;
        _bodyOffset = bodyOffset;
        _methodId = methodId;
        _contract = contract;
        _id = id;
        _response = response;
        _oneWay = oneWay;
        _deadline = deadline;
        _activity = activity;
    }

    /// <summary>Gives back an item that was not started (the call was refused or forwarded), with its buffer.</summary>
    public void ReturnUnused() => Recycle();

    public override bool Execute(Activation activation)
    {
        _activation = activation;
        long remaining = _deadline == long.MaxValue ? long.MaxValue : _deadline - Environment.TickCount64;
        if (remaining <= 0)
        {
            // Expired while queued: the caller has stopped waiting, so the actor does not run it (as for local calls).
            activation.Runtime.Metrics.TimedOut();
            Answer(new MeshTimeoutException(_id, MethodName(), TimeSpan.Zero));
            return true;
        }

        // The token exists before the deadline is armed (a fence), so a sweep that sees the deadline finds the token.
        CancellationTokenSource cts = _cts ??= new CancellationTokenSource();
        if (remaining != long.MaxValue)
        {
            CallDeadlines.Arm(this, TimeSpan.FromMilliseconds(remaining));
        }

        IBufferWriter<byte> output;
        if (_oneWay)
        {
            output = DiscardingBufferWriter.Instance;
        }
        else
        {
            output = _response.Writer;
            CallResponse.WriteOk(output);
        }

        // The owner's span is current while the actor runs (and in what its awaits capture), so calls the actor makes
        // join the caller's trace; the mailbox's thread gets its own activity back afterwards.
        Activity? span = _activity;
        Activity? previous = null;
        if (span is not null)
        {
            previous = Activity.Current;
            Activity.Current = span;
        }

        ValueTask pending;
        try
        {
            pending = _contract!.Dispatcher.DispatchAsync(activation.Instance, _methodId, new ReadOnlySequence<byte>(_buffer!, _bodyOffset, _length - _bodyOffset), output, cts.Token);
        }
        catch (Exception exception)
        {
            Finish(exception);
            return true;
        }
        finally
        {
            // Locals only: a call that finished synchronously may already be back in the pool.
            if (span is not null)
            {
                Activity.Current = previous;
            }
        }

        if (pending.IsCompleted)
        {
            FinishFrom(pending);
            return true;
        }

        _pending = pending;
        pending.GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        return false;
    }

    public override void Fail(Exception exception) => Answer(exception);

    /// <inheritdoc/>
    internal override void OnDeadline()
    {
        // Read the use first, then the deadline: Recycle clears the deadline before it counts the next use, so a deadline
        // seen here belongs to this use or a later one, and the claim below succeeds only if the use is still the same.
        int use = Volatile.Read(ref _use);
        long deadline = Volatile.Read(ref Deadline);
        if ((use & 1) != 0 || deadline == 0)
        {
            return;
        }

        if (deadline > Stopwatch.GetTimestamp())
        {
            // A new use armed a later deadline after the sweep read the earlier one.
            CallDeadlines.List(this);
            return;
        }

        CancellationTokenSource? cts = _cts;
        MeshRuntime? runtime = _service?.Runtime;
        ActorContract? contract = _contract;
        ActorId id = _id;
        uint methodId = _methodId;
        if (cts is null || Interlocked.CompareExchange(ref _use, use | 1, use) != use)
        {
            return;
        }

        CancelActorToken(cts, runtime, id, contract is null ? "?" : MethodName(contract, methodId), "past its caller's deadline");
    }

    public override void Reroute(MeshRuntime runtime)
    {
        // The activation deactivated while this waited (idle, requested, rebalanced). Run it on the id's next activation
        // if this node still owns the id; otherwise the caller retries where its view sends it.
        if (!runtime.OwnsLocally(_id))
        {
            AnswerStatus(CallStatus.NotOwner, "the actor moved to another node while the call waited");
            return;
        }

        try
        {
            runtime.GetActivation(_id, _contract).Enqueue(this);
        }
        catch (Exception exception)
        {
            Answer(exception);
        }
    }

    private void OnPendingCompleted()
    {
        Activation activation = _activation!;
        ValueTask pending = _pending;
        _pending = default;
        FinishFrom(pending);
        activation.OnTurnCompleted();
    }

    private void FinishFrom(ValueTask pending)
    {
        try
        {
            pending.GetAwaiter().GetResult();
            Finish(null);
        }
        catch (Exception exception)
        {
            Finish(exception);
        }
    }

    private void Finish(Exception? exception)
    {
        EndSpan(exception);
        MeshRuntime runtime = _activation!.Runtime;
        if (_oneWay)
        {
            if (exception is not null)
            {
                runtime.Metrics.ActorFailed();
                runtime.Log.OneWayFailed(_id, MethodName(), exception);
            }

            Recycle();
            return;
        }

        if (exception is null)
        {
            _response.Complete();
            Recycle();
            return;
        }

        _response.Clear();
        if (exception is MeshProtocolException)
        {
            CallResponse.WriteStatus(_response.Writer, CallStatus.ProtocolError, exception.Message);
        }
        else
        {
            // The same counting and the same answer as a local call whose actor threw (CallItem.Wrap).
            runtime.Metrics.ActorFailed();
            CallResponse.WriteActorError(_response.Writer, exception);
        }

        _response.Complete();
        Recycle();
    }

    private void Answer(Exception exception)
    {
        EndSpan(exception);
        if (_oneWay)
        {
            _service!.OneWayRefused(_id, exception.Message);
            Recycle();
            return;
        }

        _response.Clear();
        CallResponse.WriteFailure(_response.Writer, exception, _service!.Runtime.IsStopping);
        _response.Complete();
        Recycle();
    }

    private void AnswerStatus(CallStatus status, string message)
    {
        EndSpan(null, message);
        if (!_oneWay)
        {
            _response.Clear();
            CallResponse.WriteStatus(_response.Writer, status, message);
            _response.Complete();
        }
        else
        {
            _service!.OneWayRefused(_id, message);
        }

        Recycle();
    }

    /// <summary>Gets the name of <paramref name="contract"/>'s method <paramref name="methodId"/> (its id in hex when the
    /// contract has no such method), for messages and spans.</summary>
    internal static string MethodName(ActorContract contract, uint methodId)
    {
        foreach (ActorMethod method in contract.Dispatcher.Methods)
        {
            if (method.Id == methodId)
            {
                return method.Name;
            }
        }

        return "0x" + methodId.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
    }

    private string MethodName() => MethodName(_contract!, _methodId);

    /// <summary>Ends the owner's span, failed when the call was not answered with a result.</summary>
    private void EndSpan(Exception? failure, string? refusal = null)
    {
        Activity? activity = _activity;
        if (activity is null)
        {
            return;
        }

        _activity = null;
        if (failure is not null)
        {
            MeshTelemetry.Fail(activity, failure);
        }
        else if (refusal is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, refusal);
        }

        MeshTelemetry.StopDetached(activity);
    }

    private void Recycle()
    {
        EndSpan(null);

        // Clear the deadline, then count the next use (a full fence): a sweep that read this use can no longer claim it,
        // and one that claimed it first is cancelling this token, which is therefore dropped below rather than reused.
        CallDeadlines.Disarm(this);
        bool cancelling = (Interlocked.Exchange(ref _use, (_use & ~1) + 2) & 1) != 0;
        if (_buffer is not null && !ReferenceEquals(_buffer, _ownBuffer))
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = null;
        _service = null;
        _contract = null;
        _activation = null;
        _response = default;
        _id = default;
        _pending = default;
        if (cancelling || (_cts is not null && !_cts.TryReset()))
        {
            // Cancelled, or being cancelled, at the deadline: the actor may still hold its token, so it is dropped rather
            // than reused (it owns no timer, so nothing needs disposing).
            _cts = null;
        }

        // An item the pool does not keep may still be on the deadline sweep's list; the next sweep drops it.
        ThreadCachedPool<RemoteCallItem>.TryReturn(this, PoolLimit);
    }

    /// <summary>The writer of one-way calls: the dispatcher writes nothing for them, and anything written is dropped.</summary>
    private sealed class DiscardingBufferWriter : IBufferWriter<byte>
    {
        public static readonly DiscardingBufferWriter Instance = new();

        [ThreadStatic]
        private static byte[]? t_scratch;

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

        private static byte[] Scratch(int sizeHint)
        {
            byte[]? scratch = t_scratch;
            if (scratch is null || scratch.Length < sizeHint)
            {
                t_scratch = scratch = new byte[Math.Max(sizeHint, 256)];
            }

            return scratch;
        }
    }
}
