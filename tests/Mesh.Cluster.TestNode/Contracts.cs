using MemoryPack;

namespace Mesh.Cluster.TestNode;

/// <summary>What every test actor answers: the node it runs on and a value that shows its state survived (or not).</summary>
[MemoryPackable]
public sealed partial class Answer
{
    /// <summary>Gets or sets the name of the node the actor runs on.</summary>
    public string Node { get; set; } = "";

    /// <summary>Gets or sets the actor's state after the call.</summary>
    public long Value { get; set; }
}

/// <summary>A counter: counts the calls it received since it was activated.</summary>
[MeshActor("counter")]
public interface ICounterActor : IMeshActor
{
    /// <summary>Adds <paramref name="by"/>; answers the new count.</summary>
    ValueTask<Answer> IncrementAsync(int by = 1, CancellationToken ct = default);
}

/// <summary>A game player: moves on a line; answers its position.</summary>
[MeshActor("game")]
public interface IPlayerActor : IMeshActor
{
    /// <summary>Moves by <paramref name="steps"/>; answers the new position.</summary>
    ValueTask<Answer> MoveAsync(int steps, CancellationToken ct = default);
}

/// <summary>A chat room: keeps the messages posted since it was activated; answers how many.</summary>
[MeshActor("chat")]
public interface IRoomActor : IMeshActor
{
    /// <summary>Posts <paramref name="text"/>; answers the number of messages in the room.</summary>
    ValueTask<Answer> PostAsync(string text, CancellationToken ct = default);
}
