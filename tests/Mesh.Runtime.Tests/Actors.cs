using MemoryPack;

namespace Mesh.Runtime.Tests;

[MeshActor("probe")]
public interface IProbeActor : IMeshActor
{
    ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default);

    /// <summary>Adds to the counter like <see cref="IncrementAsync"/> without recording the call, so it allocates nothing.</summary>
    ValueTask<int> AddAsync(int by);

    ValueTask<string> InstanceAsync();

    Task<int> SlowAsync(int milliseconds, CancellationToken ct);

    Task<int> WaitGateAsync(string gate, CancellationToken ct);

    ValueTask AppendAsync(int value);

    ValueTask<int> HoldAsync(string gate);

    /// <summary>Registers a callback on its token that throws, then waits for the gate ignoring cancellation.</summary>
    Task<int> HoldWithThrowingCallbackAsync(string gate, CancellationToken ct);

    [OneWay]
    ValueTask AppendOneWayAsync(int value);

    ValueTask<int[]> ReadAsync();

    ValueTask<int> ThrowAsync(string message);

    [OneWay]
    ValueTask ThrowOneWayAsync(string message);

    ValueTask DeactivateAsync();

    ValueTask<string> EchoAsync(string text, CancellationToken ct = default);
}

/// <summary>Records everything it does in the <see cref="Probe"/>.</summary>
public sealed class ProbeActor : IProbeActor, IActorLifecycle
{
    private readonly IActorContext _context;
    private readonly Probe _probe;
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private readonly List<int> _values = [];
    private int _value;

    internal ProbeActor(IActorContext context, Probe probe)
    {
        _context = context;
        _probe = probe;
    }

    // DI needs a public constructor; Probe is internal, so take it through IServiceProvider.
    public ProbeActor(IActorContext context, IServiceProvider services)
        : this(context, (Probe)services.GetService(typeof(Probe))!)
    {
        _probe.Increment("created:" + context.Id.Key);
    }

    public ValueTask OnActivateAsync(CancellationToken cancellationToken)
    {
        _probe.Record("activate:" + _context.Id.Key);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _probe.Record("deactivate:" + _context.Id.Key + ":" + reason);
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> IncrementAsync(int by = 1, CancellationToken ct = default)
    {
        _probe.Record("call:" + _context.Id.Key);
        return new(_value += by);
    }

    public ValueTask<int> AddAsync(int by) => new(_value += by);

    public ValueTask<string> InstanceAsync() => new(_instance);

    public async Task<int> SlowAsync(int milliseconds, CancellationToken ct)
    {
        int now = Interlocked.Increment(ref _probe.CurrentConcurrency);
        InterlockedMax(ref _probe.MaxConcurrency, now);
        try
        {
            await Task.Delay(milliseconds, CancellationToken.None);
            return ++_value;
        }
        finally
        {
            Interlocked.Decrement(ref _probe.CurrentConcurrency);
        }
    }

    public async Task<int> WaitGateAsync(string gate, CancellationToken ct)
    {
        _probe.Record("entered:" + gate);
        try
        {
            await _probe.Gate(gate).WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            _probe.Record("cancelled:" + gate);
            throw;
        }

        _probe.Record("left:" + gate);
        return ++_value;
    }

    public async Task<int> HoldWithThrowingCallbackAsync(string gate, CancellationToken ct)
    {
        using CancellationTokenRegistration registration = ct.Register(() => throw new InvalidOperationException("a cancellation callback failed"));
        _probe.Record("entered:" + gate);
        await _probe.Gate(gate);
        _probe.Record("left:" + gate);
        return ++_value;
    }

    public async ValueTask<int> HoldAsync(string gate)
    {
        // Ignores cancellation on purpose: the turn lasts until the test opens the gate.
        _probe.Record("entered:" + gate);
        await _probe.Gate(gate);
        _probe.Record("left:" + gate);
        return ++_value;
    }

    public ValueTask AppendAsync(int value)
    {
        _values.Add(value);
        return ValueTask.CompletedTask;
    }

    public ValueTask AppendOneWayAsync(int value)
    {
        _values.Add(value);
        return ValueTask.CompletedTask;
    }

    public ValueTask<int[]> ReadAsync() => new([.. _values]);

    public ValueTask<int> ThrowAsync(string message) => throw new InvalidOperationException(message);

    public ValueTask ThrowOneWayAsync(string message)
    {
        _probe.Record("one-way-throw:" + _context.Id.Key);
        throw new InvalidOperationException(message);
    }

    public ValueTask DeactivateAsync()
    {
        _context.DeactivateOnIdle();
        return ValueTask.CompletedTask;
    }

    public ValueTask<string> EchoAsync(string text, CancellationToken ct = default) => new(text);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}

[MeshActor("probe")]
public interface IReentrantActor : IMeshActor
{
    Task<int> SlowAsync(int milliseconds);
}

/// <summary>Marked reentrant: its turns interleave at awaits.</summary>
[Reentrant]
public sealed class ReentrantActor(IServiceProvider services) : IReentrantActor
{
    private readonly Probe _probe = (Probe)services.GetService(typeof(Probe))!;

    public async Task<int> SlowAsync(int milliseconds)
    {
        int now = Interlocked.Increment(ref _probe.CurrentConcurrency);
        int max;
        while ((max = Volatile.Read(ref _probe.MaxConcurrency)) < now && Interlocked.CompareExchange(ref _probe.MaxConcurrency, now, max) != max)
        {
        }

        await Task.Delay(milliseconds);
        Interlocked.Decrement(ref _probe.CurrentConcurrency);
        return now;
    }
}

[MeshActor("other")]
public interface IOtherActor : IMeshActor
{
    ValueTask<int> PingAsync();
}

public sealed class OtherActor : IOtherActor
{
    public ValueTask<int> PingAsync() => new(42);
}

/// <summary>A base interface without [MeshActor]: its members become part of the contract that extends it.</summary>
public interface INamed
{
    ValueTask<string> NameAsync(string prefix = "name:");
}

[MemoryPackable]
public sealed partial class PlayerState
{
    public string Name { get; set; } = "";

    public int Score { get; set; }
}

public enum Team
{
    Red = 1,
    Blue = 2,
}

[MeshActor("game")]
public interface IGameActor : IMeshActor, INamed
{
    Task JoinAsync(PlayerState player, Team team = Team.Blue);

    Task<List<PlayerState>> PlayersAsync();

    ValueTask<int> ScoreAsync(string player, CancellationToken ct);

    ValueTask<int> ScoreAsync(Team team);

    ValueTask<string?> FindAsync(string? name = null);
}

public sealed class GameActor(IActorContext context) : IGameActor
{
    private readonly List<PlayerState> _players = [];
    private readonly Dictionary<string, Team> _teams = [];

    public ValueTask<string> NameAsync(string prefix = "name:") => new(prefix + context.Id.Key);

    public Task JoinAsync(PlayerState player, Team team = Team.Blue)
    {
        _players.Add(player);
        _teams[player.Name] = team;
        return Task.CompletedTask;
    }

    public Task<List<PlayerState>> PlayersAsync() => Task.FromResult(_players.ToList());

    public ValueTask<int> ScoreAsync(string player, CancellationToken ct) => new(_players.Where(p => p.Name == player).Sum(p => p.Score));

    public ValueTask<int> ScoreAsync(Team team) => new(_players.Where(p => _teams[p.Name] == team).Sum(p => p.Score));

    public ValueTask<string?> FindAsync(string? name = null) => new(_players.FirstOrDefault(p => p.Name == name)?.Name);
}
