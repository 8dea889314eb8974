namespace Mesh.Cluster.TestNode;

/// <summary>The counter actor; its activations are recorded in <see cref="ActiveActors"/>.</summary>
public sealed class CounterActor(IActorContext context) : TrackedActor(context), ICounterActor
{
    private long _count;

    /// <inheritdoc/>
    public ValueTask<Answer> IncrementAsync(int by = 1, CancellationToken ct = default) => Reply(_count += by);
}

/// <summary>The game player actor.</summary>
public sealed class PlayerActor(IActorContext context) : TrackedActor(context), IPlayerActor
{
    private long _position;

    /// <inheritdoc/>
    public ValueTask<Answer> MoveAsync(int steps, CancellationToken ct = default) => Reply(_position += steps);
}

/// <summary>The chat room actor.</summary>
public sealed class RoomActor(IActorContext context) : TrackedActor(context), IRoomActor
{
    private readonly List<string> _messages = [];

    /// <inheritdoc/>
    public ValueTask<Answer> PostAsync(string text, CancellationToken ct = default)
    {
        _messages.Add(text);
        return Reply(_messages.Count);
    }
}

/// <summary>Records activation and deactivation in <see cref="ActiveActors"/>, so a test can ask every node which ids
/// are active on it (and find an id active on two nodes), and answers with this node's name.</summary>
public abstract class TrackedActor(IActorContext context) : IActorLifecycle
{
    /// <inheritdoc/>
    public ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        ActiveActors.Activated(context.Id);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ActiveActors.Deactivated(context.Id, reason);
        return ValueTask.CompletedTask;
    }

    /// <summary>Counts a handled call and builds the answer.</summary>
    /// <param name="value">The actor's state after the call.</param>
    /// <returns>The answer, completed.</returns>
    protected ValueTask<Answer> Reply(long value)
    {
        ActiveActors.CallHandled();
        return new(new Answer { Node = context.Mesh.Self.Name, Value = value });
    }
}
