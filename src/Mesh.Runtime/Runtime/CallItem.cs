using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Mesh.Infrastructure;

namespace Mesh.Runtime;

/// <summary>
/// A pooled call of one request type: it carries the request into the mailbox, runs it as a turn, and is the
/// <see cref="IValueTaskSource{TResult}"/> the caller awaits when the call does not complete synchronously.
/// Two owners share it, the caller (until it reads the result) and the mailbox (until the turn ends or is skipped);
/// it returns to the pool when both are done. A timed-out or cancelled call completes its caller at once, cancels the
/// token the actor sees, and is skipped if it has not started.
/// </summary>
internal sealed class CallItem<TRequest, TActor, TResponse> : TimedWorkItem, IValueTaskSource<TResponse>
    where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
    where TActor : class, IMeshActor
{
    /// <summary>The most idle items kept per request type beyond one per thread.</summary>
    private const int PoolLimit = 1024;

    private readonly Action _onPendingCompleted;
    private ManualResetValueTaskSourceCore<TResponse> _core;
    private CancellationTokenSource? _cts;
    private CancellationTokenRegistration _callerRegistration;
    private CancellationToken _callerToken;
    private TRequest _request;
    private Activation? _activation;
    private ValueTask<TResponse> _pending;
    // Bit 0: the call has its answer (completed, timed out or cancelled); the other bits count the item's uses, so a
    // timeout or cancellation that runs late, after the item was recycled, cannot complete the next use (it compares
    // the whole value it read).
    private int _completed;
    private int _owners;
    private bool _inline;
    private bool _oneWay;

    private CallItem()
    {
        _core.RunContinuationsAsynchronously = true;
        _onPendingCompleted = OnPendingCompleted;
    }

    private CancellationToken Token => (_cts ??= new CancellationTokenSource()).Token;

    /// <summary>Calls <paramref name="activation"/>: inline when its mailbox is idle, queued otherwise.</summary>
    public static ValueTask<TResponse> Invoke(Activation activation, in TRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResponse>(cancellationToken);
        }

        CallItem<TRequest, TActor, TResponse> item = Rent();
        item._request = request;
        item._activation = activation;
        item._callerToken = cancellationToken;
        if (activation.TryEnterInline() || activation.TryActivateInline())
        {
            return item.RunInline(activation);
        }

        short version = item._core.Version;
        item.Arm(activation.Runtime.DefaultCallTimeout);
        try
        {
            activation.Enqueue(item);
        }
        catch (MailboxFullException exception)
        {
            item.Disarm();
            item.Recycle();
            return ValueTask.FromException<TResponse>(exception);
        }

        return new ValueTask<TResponse>(item, version);
    }

    /// <summary>Queues a one-way message: completes when it is queued; the actor's exception is logged, never thrown.</summary>
    public static void Send(Activation activation, in TRequest request)
    {
        CallItem<TRequest, TActor, TResponse> item = Rent();
        item._request = request;
        item._activation = activation;
        item._oneWay = true;
        item._owners = 1;
        item.Arm(activation.Runtime.DefaultCallTimeout);
        try
        {
            activation.Enqueue(item);
        }
        catch
        {
            item.Disarm();
            item.Recycle();
            throw;
        }
    }

    public override bool Execute(Activation activation)
    {
        _activation = activation;

        // The token exists before the check: a timeout or cancellation that lands after the check then finds it and
        // cancels it, so the actor sees the cancellation (the fence keeps the token's store ahead of the load).
        CancellationToken token = Token;
        Interlocked.MemoryBarrier();
        if (IsAnswered)
        {
            // Timed out or cancelled while queued: the caller has its answer already.
            Release();
            return true;
        }

        ValueTask<TResponse> pending;
        try
        {
            pending = TRequest.InvokeAsync((TActor)activation.Instance, in _request, token);
        }
        catch (Exception exception)
        {
            Complete(default, exception);
            Release();
            return true;
        }

        if (pending.IsCompleted)
        {
            CompleteFrom(pending);
            Release();
            return true;
        }

        _pending = pending;
        pending.GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        return false;
    }

    public override void Fail(Exception exception)
    {
        Complete(default, exception, wrap: false);
        Release();
    }

    public override void Reroute(MeshRuntime runtime)
    {
        ActorId id = _activation!.Id;
        if (runtime.Network is not null && !runtime.OwnsLocally(id))
        {
            // Rebalanced away while this waited behind the deactivation: send it where the current view says, as the
            // caller would now, rather than activate the id again on a node that no longer owns it.
            _ = RerouteRemoteAsync(runtime, id);
            return;
        }

        try
        {
            Activation next = runtime.GetActivation(_activation!.Id);
            _activation = next;
            next.Enqueue(this);
        }
        catch (Exception exception)
        {
            Fail(exception);
        }
    }

    private async Task RerouteRemoteAsync(MeshRuntime runtime, ActorId id)
    {
        var reference = new RoutedActorReference(runtime, ActorContract<TActor>.Get(), id);
        TRequest request = _request;
        try
        {
            if (_oneWay)
            {
                await reference.Send<TRequest, TActor, TResponse>(in request, CancellationToken.None).ConfigureAwait(false);
                Complete(default, null);
            }
            else
            {
                TResponse result = await reference.InvokeAsync<TRequest, TActor, TResponse>(in request, _callerToken).ConfigureAwait(false);
                Complete(result, null);
            }
        }
        catch (Exception exception)
        {
            // Already what a caller of the new owner gets (the remote path wraps actor failures itself).
            Complete(default, exception, wrap: false);
        }
        finally
        {
            Release();
        }
    }

    TResponse IValueTaskSource<TResponse>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<TResponse>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<TResponse>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private static CallItem<TRequest, TActor, TResponse> Rent()
    {
        if (!ThreadCachedPool<CallItem<TRequest, TActor, TResponse>>.TryRent(out CallItem<TRequest, TActor, TResponse>? item))
        {
            item = new CallItem<TRequest, TActor, TResponse>();
        }

        item._owners = 2;
        return item;
    }

    private ValueTask<TResponse> RunInline(Activation activation)
    {
        _inline = true;
        ValueTask<TResponse> pending;
        try
        {
            pending = TRequest.InvokeAsync((TActor)activation.Instance, in _request, Token);
        }
        catch (Exception exception)
        {
            activation.ExitInline();
            Exception wrapped = Wrap(exception);
            Recycle();
            return ValueTask.FromException<TResponse>(wrapped);
        }

        if (pending.IsCompletedSuccessfully)
        {
            TResponse result = pending.Result;
            activation.ExitInline();
            Recycle();
            return new ValueTask<TResponse>(result);
        }

        short version = _core.Version;
        if (pending.IsCompleted)
        {
            activation.ExitInline();
            _inline = false;
            CompleteFrom(pending);
            Release();
            return new ValueTask<TResponse>(this, version);
        }

        // The turn continues asynchronously and keeps the mailbox until it ends.
        Arm(activation.Runtime.DefaultCallTimeout);
        _pending = pending;
        pending.GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        return new ValueTask<TResponse>(this, version);
    }

    private void OnPendingCompleted()
    {
        Activation activation = _activation!;
        bool inline = _inline;
        CompleteFrom(_pending);
        _pending = default;
        Release();
        if (inline)
        {
            activation.ExitInline();
        }
        else
        {
            activation.OnTurnCompleted();
        }
    }

    private void CompleteFrom(ValueTask<TResponse> pending)
    {
        try
        {
            Complete(pending.Result, null);
        }
        catch (Exception exception)
        {
            Complete(default, exception);
        }
    }

    private bool IsAnswered => (Volatile.Read(ref _completed) & 1) != 0;

    /// <summary>Takes the right to answer this use of the item; <see langword="false"/> when it was answered already.</summary>
    private bool TryAnswer() => TryAnswer(Volatile.Read(ref _completed) & ~1);

    /// <summary>Takes the right to answer the use whose unanswered state is <paramref name="unanswered"/>.</summary>
    private bool TryAnswer(int unanswered) => Interlocked.CompareExchange(ref _completed, unanswered | 1, unanswered) == unanswered;

    private void Complete(TResponse? result, Exception? exception, bool wrap = true)
    {
        if (!TryAnswer())
        {
            // Already answered by a timeout or cancellation.
            if (exception is not null && _oneWay is false && exception is not OperationCanceledException)
            {
                _activation?.Runtime.Log.LateFailure(_activation.Id, TRequest.MethodName, exception);
            }

            return;
        }

        Disarm();
        if (_oneWay)
        {
            if (exception is not null)
            {
                _activation?.Runtime.Log.OneWayFailed(_activation.Id, TRequest.MethodName, exception);
            }

            return;
        }

        if (exception is null)
        {
            _core.SetResult(result!);
        }
        else
        {
            _core.SetException(wrap ? Wrap(exception) : exception);
        }
    }

    private Exception Wrap(Exception exception)
    {
        ActorId id = _activation!.Id;
        _activation.Runtime.Metrics.ActorFailed();
        return new ActorInvocationException(id, TRequest.MethodName, exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace, exception);
    }

    private void Arm(TimeSpan timeout)
    {
        CallDeadlines.Arm(this, timeout);
        if (_callerToken.CanBeCanceled)
        {
            _callerRegistration = _callerToken.UnsafeRegister(static state => ((CallItem<TRequest, TActor, TResponse>)state!).OnCallerCanceled(), this);
        }
    }

    private void Disarm()
    {
        CallDeadlines.Disarm(this);

        // Dispose, not Unregister: it waits for the caller's cancellation callback if another thread is running it, so
        // that callback cannot run on after this item is recycled and answer the item's next use.
        _callerRegistration.Dispose();
        _callerRegistration = default;
    }

    /// <inheritdoc/>
    internal override void OnDeadline()
    {
        // Read the use first: everything read after it belongs to that use or a later one, and the answer below is taken
        // only if the use is still the same and unanswered.
        int state = Volatile.Read(ref _completed);
        long deadline = Volatile.Read(ref Deadline);
        Activation? activation = _activation;
        if ((state & 1) != 0 || deadline == 0 || activation is null)
        {
            // Answered or disarmed meanwhile, or recycled.
            return;
        }

        if (deadline > Stopwatch.GetTimestamp())
        {
            // A new use of this pooled item armed a later deadline after the sweep read the earlier one.
            CallDeadlines.List(this);
            return;
        }

        if (!TryAnswer(state))
        {
            return;
        }

        activation.Runtime.Metrics.TimedOut();
        var timeout = new MeshTimeoutException(activation.Id, TRequest.MethodName, activation.Runtime.DefaultCallTimeout);
        CallDeadlines.Disarm(this);
        _callerRegistration.Dispose();
        CancelActor("timed out");
        if (_oneWay)
        {
            activation.Runtime.Log.OneWayFailed(activation.Id, TRequest.MethodName, timeout);
        }
        else
        {
            _core.SetException(timeout);
        }
    }

    private void OnCallerCanceled()
    {
        if (TryAnswer())
        {
            CallDeadlines.Disarm(this);
            CancelActor("cancelled by its caller");
            _core.SetException(new OperationCanceledException(_callerToken));
        }
    }

    /// <summary>Cancels the token the actor was given; a callback the actor registered on it that throws is logged, and
    /// the caller still gets its answer.</summary>
    private void CancelActor(string reason)
    {
        Activation? activation = _activation;
        CancelActorToken(_cts, activation?.Runtime, activation?.Id ?? default, TRequest.MethodName, reason);
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            Recycle();
        }
    }

    private void Recycle()
    {
        _request = default;
        _activation = null;
        _pending = default;
        _callerToken = default;
        _callerRegistration = default;
        // The next use, unanswered.
        _completed = (_completed & ~1) + 2;
        _inline = false;
        _oneWay = false;
        Deadline = 0;
        if (_cts is not null && !_cts.TryReset())
        {
            // Cancelled: the actor may still hold its token, so it is dropped rather than disposed (it owns no timer).
            _cts = null;
        }

        _core.Reset();
        // An item the pool does not keep may still be on the deadline sweep's list; the next sweep drops it.
        ThreadCachedPool<CallItem<TRequest, TActor, TResponse>>.TryReturn(this, PoolLimit);
    }
}
