using Mesh.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Runtime;

/// <summary>
/// One live actor: its instance, its mailbox and its lifecycle. Messages run one turn at a time in FIFO order
/// (several at once, interleaved at awaits, for <c>[Reentrant]</c> implementations). A call that finds the mailbox
/// idle runs on the caller's thread without being queued (the inline fast path); otherwise it is queued and the
/// mailbox drains on the thread pool. Nothing here takes a lock.
/// </summary>
internal sealed class Activation : IThreadPoolWorkItem
{
    private const int Created = 0;
    private const int Active = 1;
    private const int Deactivating = 2;
    private const int Deactivated = 3;
    private const int Failed = 4;

    private WorkItemQueue _queue;
    private readonly ActorImplementation _implementation;

    // Made on first use: most actors never read their deactivation token, and nobody waits for most activations to go,
    // so neither costs an idle activation anything (about 140 bytes) until it is asked for. Each has a flag its owner
    // sets (with a full fence) before it looks for the object; whoever makes the object sets it, then reads the flag,
    // so one of the two always finishes the job (see DeactivatingToken and Gone).
    private CancellationTokenSource? _deactivating;
    private TaskCompletionSource? _gone;
    private int _cancelRequested;
    private int _goneSignalled;
    private int _queued;
    private int _running;
    private int _state;
    private int _deactivationQueued;
    private int _inFlight;
    private long _lastActivity;
    private long _calls;
    private IMeshActor? _instance;
    private AsyncServiceScope _scope;
    private Exception? _activationError;

    public Activation(MeshRuntime runtime, ActorId id, ActorImplementation implementation)
    {
        Runtime = runtime;
        Id = id;
        _implementation = implementation;
        IsReentrant = implementation.IsReentrant;
        _lastActivity = Environment.TickCount64;

        // Activation is the first turn, so every message queued before it completes waits for it.
        _queue.Enqueue(new ActivateItem());
        _queued = 1;
    }

    public MeshRuntime Runtime { get; }

    public ActorId Id { get; }

    public bool IsReentrant { get; }

    public IMeshActor Instance => _instance!;

    public CancellationToken DeactivatingToken
    {
        get
        {
            CancellationTokenSource? source = Volatile.Read(ref _deactivating);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref _deactivating, created, null) ?? created;
                if (Volatile.Read(ref _cancelRequested) != 0)
                {
                    // Deactivation began before the source existed, so it cancelled nothing: cancel it here.
                    source.Cancel();
                }
            }

            return source.Token;
        }
    }

    public bool IsGone => Volatile.Read(ref _state) >= Deactivated;

    /// <summary>Gets the calls and one-way messages this activation has run (read without a fence: a statistic).</summary>
    public long Calls => Volatile.Read(ref _calls);

    /// <summary>Gets how many items wait in the mailbox (read without a fence: a statistic).</summary>
    public int QueuedCount => Math.Max(0, Volatile.Read(ref _queued));

    /// <summary>Gets a task that completes when the activation has deactivated or failed to activate.</summary>
    public Task Gone
    {
        get
        {
            TaskCompletionSource? gone = Volatile.Read(ref _gone);
            if (gone is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                gone = Interlocked.CompareExchange(ref _gone, created, null) ?? created;
                if (Volatile.Read(ref _goneSignalled) != 0)
                {
                    gone.TrySetResult();
                }
            }

            return gone.Task;
        }
    }

    /// <summary>Gets whether nothing is queued or running and the last turn ended before <paramref name="idleSince"/>.</summary>
    public bool IsIdleSince(long idleSince)
        => Volatile.Read(ref _state) == Active && Volatile.Read(ref _queued) == 0 && Volatile.Read(ref _running) == 0
        && Volatile.Read(ref _inFlight) == 0 && Volatile.Read(ref _lastActivity) <= idleSince;

    /// <summary>Takes the turn for a call on the caller's thread, when the actor is active and nothing waits.</summary>
    public bool TryEnterInline()
    {
        if (IsReentrant || Volatile.Read(ref _state) != Active || Volatile.Read(ref _queued) != 0
            || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return false;
        }

        if (Volatile.Read(ref _state) == Active)
        {
            return true;
        }

        ReleaseInline();
        return false;
    }

    /// <summary>
    /// For the first call to a new activation: when nobody has started the activation step yet, takes the turn, runs
    /// the step on the caller's thread and, if it completed synchronously, the actor is active and nothing else was
    /// queued meanwhile, keeps the turn for the caller's call (ended by <see cref="ExitInline"/>). Saves the first call
    /// the mailbox, its timer and two thread-pool hops. Otherwise the caller queues its call as usual.
    /// </summary>
    public bool TryActivateInline()
    {
        if (Volatile.Read(ref _state) != Created || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return false;
        }

        // The turn is ours and the state still Created, so nobody has dequeued the activation step: it is first in
        // the queue (the constructor put it there), and everything queued since waits behind it.
        if (Volatile.Read(ref _state) != Created || !_queue.TryDequeue(out WorkItem? step))
        {
            ReleaseInline();
            return false;
        }

        Interlocked.Decrement(ref _queued);
        if (!step.Execute(this))
        {
            // Activating asynchronously: the step drains the mailbox when it ends, with the caller's call queued.
            return false;
        }

        if (!IsReentrant && Volatile.Read(ref _state) == Active && Volatile.Read(ref _queued) == 0)
        {
            return true;
        }

        ReleaseInline();
        return false;
    }

    /// <summary>Ends a turn taken by <see cref="TryEnterInline"/>, then drains whatever was queued meanwhile.</summary>
    public void ExitInline()
    {
        // Inline turns are never reentrant, so the turn holder is the only writer.
        _calls++;
        ReleaseInline();
    }

    /// <summary>Gives back a turn taken inline, without counting a call.</summary>
    private void ReleaseInline()
    {
        Volatile.Write(ref _lastActivity, Environment.TickCount64);

        // A full fence between releasing the turn and looking at the queue: with a plain volatile write the read could
        // move before it, and an enqueuer that still saw the turn taken would be left with nobody to drain its item.
        Interlocked.Exchange(ref _running, 0);
        if (!_queue.IsEmpty)
        {
            Schedule();
        }
    }

    /// <summary>Queues <paramref name="item"/>, or throws <see cref="MailboxFullException"/> when the mailbox is full.</summary>
    public void Enqueue(WorkItem item)
    {
        int capacity = Runtime.MailboxCapacity;
        if (Interlocked.Increment(ref _queued) > capacity && item is not DeactivateItem)
        {
            Interlocked.Decrement(ref _queued);
            throw new MailboxFullException(Id, capacity);
        }

        _queue.Enqueue(item);
        Schedule();
    }

    /// <summary>Queues a deactivation after whatever is queued now (once per activation).</summary>
    public void RequestDeactivation(DeactivationReason reason)
    {
        if (Interlocked.Exchange(ref _deactivationQueued, 1) == 0)
        {
            Enqueue(new DeactivateItem(reason));
        }
    }

    void IThreadPoolWorkItem.Execute() => Drain();

    /// <summary>Called by an item whose turn ended asynchronously.</summary>
    public void OnTurnCompleted()
    {
        Volatile.Write(ref _lastActivity, Environment.TickCount64);
        if (IsReentrant)
        {
            // DeactivateAsync waits for the count to reach zero.
            Interlocked.Decrement(ref _inFlight);
            return;
        }

        Drain();
    }

    public async ValueTask ActivateAsync()
    {
        _scope = Runtime.Services.CreateAsyncScope();
        _instance = Runtime.CreateInstance(_implementation, _scope.ServiceProvider, new ActorContext(this));
        if (_instance is IActorLifecycle lifecycle)
        {
            await lifecycle.OnActivateAsync(DeactivatingToken).ConfigureAwait(false);
        }
    }

    public void OnActivated()
    {
        Volatile.Write(ref _state, Active);
        Runtime.Metrics.Activated(Id.Capability);
    }

    public void OnActivationFailed(Exception exception)
    {
        _activationError = exception;
        Volatile.Write(ref _state, Failed);
        Runtime.Log.ActivationFailed(Id, exception);
        _ = DisposeInstanceAsync();
        Runtime.Remove(this);
        SignalGone();
    }

    public async ValueTask DeactivateAsync(DeactivationReason reason)
    {
        if (IsReentrant && Volatile.Read(ref _inFlight) > 0)
        {
            // Wait for reentrant turns still running: the last one reschedules the drain.
            Volatile.Write(ref _state, Deactivating);
            await WaitForInFlightAsync().ConfigureAwait(false);
        }

        Volatile.Write(ref _state, Deactivating);
        try
        {
            Interlocked.Exchange(ref _cancelRequested, 1);
            if (Volatile.Read(ref _deactivating) is { } source)
            {
                await source.CancelAsync().ConfigureAwait(false);
            }

            if (_instance is IActorLifecycle lifecycle)
            {
                using var timeout = new CancellationTokenSource(Runtime.ShutdownTimeout);
                await lifecycle.OnDeactivateAsync(reason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            Runtime.Log.DeactivationFailed(Id, exception);
        }

        await DisposeInstanceAsync().ConfigureAwait(false);
        Volatile.Write(ref _state, Deactivated);
        Runtime.Remove(this);
        Runtime.Metrics.Deactivated(Id.Capability, reason);
        SignalGone();
    }

    private void SignalGone()
    {
        Interlocked.Exchange(ref _goneSignalled, 1);
        Volatile.Read(ref _gone)?.TrySetResult();
    }

    private async Task WaitForInFlightAsync()
    {
        long deadline = Environment.TickCount64 + (long)Runtime.ShutdownTimeout.TotalMilliseconds;
        int delay = 1;
        while (Volatile.Read(ref _inFlight) > 0 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(delay).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 50);
        }
    }

    private async ValueTask DisposeInstanceAsync()
    {
        try
        {
            switch (_instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }

            await _scope.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Runtime.Log.DeactivationFailed(Id, exception);
        }
    }

    private void Schedule()
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Runs queued turns while this thread owns the mailbox (<c>_running == 1</c>).</summary>
    private void Drain()
    {
        while (true)
        {
            while (_queue.TryDequeue(out WorkItem? item))
            {
                Interlocked.Decrement(ref _queued);
                int state = Volatile.Read(ref _state);
                if (state == Deactivated)
                {
                    item.Reroute(Runtime);
                    continue;
                }

                if (state == Failed)
                {
                    item.Fail(new ActorActivationException(Id, $"Activating {Id} failed: {_activationError!.Message}", _activationError));
                    continue;
                }

                bool lifecycle = item is ActivateItem or DeactivateItem;
                if (IsReentrant && !lifecycle)
                {
                    Interlocked.Increment(ref _calls);
                    Interlocked.Increment(ref _inFlight);
                    if (item.Execute(this))
                    {
                        Interlocked.Decrement(ref _inFlight);
                    }

                    continue;
                }

                if (!lifecycle)
                {
                    // This thread holds the turn: the only writer.
                    _calls++;
                }

                if (!item.Execute(this))
                {
                    // The item calls OnTurnCompleted, which drains again on its thread.
                    return;
                }
            }

            Volatile.Write(ref _lastActivity, Environment.TickCount64);
            Interlocked.Exchange(ref _running, 0); // a full fence, as in ExitInline
            if (_queue.IsEmpty || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
            {
                return;
            }
        }
    }
}
