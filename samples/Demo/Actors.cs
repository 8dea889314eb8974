using MemoryPack;
using Mesh;

namespace DemoSample;

/// <summary>Where a player stands.</summary>
[MemoryPackable]
public sealed partial class Position
{
    /// <summary>Gets or sets the column.</summary>
    public int X { get; set; }

    /// <summary>Gets or sets the row.</summary>
    public int Y { get; set; }

    /// <summary>Gets or sets the player's health, 0 to 100.</summary>
    public int Health { get; set; } = 100;
}

/// <summary>A player of the game: the "game" capability.</summary>
[MeshActor("game")]
public interface IPlayer : IMeshActor
{
    /// <summary>Moves the player; answers where it stands now.</summary>
    ValueTask<Position> MoveAsync(int dx, int dy, CancellationToken ct = default);

    /// <summary>Takes <paramref name="damage"/> off the player's health (fire-and-forget).</summary>
    [OneWay]
    ValueTask HitAsync(int damage);
}

/// <summary>A chat room: the "chat" capability.</summary>
[MeshActor("chat")]
public interface IChatRoom : IMeshActor
{
    /// <summary>Posts a message; answers how many the room holds.</summary>
    ValueTask<int> PostAsync(string user, string text, CancellationToken ct = default);

    /// <summary>Answers the last <paramref name="count"/> messages, oldest first.</summary>
    ValueTask<string[]> RecentAsync(int count, CancellationToken ct = default);
}

/// <summary>A counter: the "counter" capability.</summary>
[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    /// <summary>Adds one; answers the new value.</summary>
    ValueTask<int> IncrementAsync(CancellationToken ct = default);
}

/// <summary>The player: plain state, one message at a time.</summary>
public sealed class Player : IPlayer
{
    private readonly Position _position = new();

    /// <inheritdoc/>
    public ValueTask<Position> MoveAsync(int dx, int dy, CancellationToken ct = default)
    {
        _position.X += dx;
        _position.Y += dy;
        return new(_position);
    }

    /// <inheritdoc/>
    public ValueTask HitAsync(int damage)
    {
        _position.Health = Math.Max(0, _position.Health - damage);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The chat room: keeps a bounded history.</summary>
public sealed class ChatRoom : IChatRoom
{
    /// <summary>Messages kept per room; older ones are dropped so a long demo stays small.</summary>
    private const int History = 100;

    private readonly Queue<string> _messages = new();
    private int _posted;

    /// <inheritdoc/>
    public ValueTask<int> PostAsync(string user, string text, CancellationToken ct = default)
    {
        _messages.Enqueue($"{user}: {text}");
        if (_messages.Count > History)
        {
            _messages.Dequeue();
        }

        return new(++_posted);
    }

    /// <inheritdoc/>
    public ValueTask<string[]> RecentAsync(int count, CancellationToken ct = default) => new(_messages.Skip(Math.Max(0, _messages.Count - count)).ToArray());
}

/// <summary>The counter.</summary>
public sealed class Counter : ICounter
{
    private int _value;

    /// <inheritdoc/>
    public ValueTask<int> IncrementAsync(CancellationToken ct = default) => new(++_value);
}
