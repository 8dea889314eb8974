using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh;

namespace DemoSample;

/// <summary>What the demo does with a formed cluster: shows where actors live, runs calls from every node and prints
/// the rate, then reads a few actors' state back.</summary>
internal static class Demo
{
    /// <summary>How long the nodes may take to find each other: a join retries every second, gossip spreads it in a few
    /// rounds; 30 s leaves room for a slow first start (development certificates, JIT).</summary>
    public static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long stopping the three hosts may take.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(1);

    /// <summary>Callers per node: enough to keep two cores busy, few enough to keep the output readable.</summary>
    private const int CallersPerNode = 4;

    private const int Players = 100;
    private const int Rooms = 10;
    private const int Counters = 20;

    public static async Task<bool> WaitForClusterAsync(IMesh[] meshes, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < FormTimeout && !cancellationToken.IsCancellationRequested)
        {
            if (meshes.All(m => m.Members.Count(static n => n.Status == MeshNodeStatus.Up) == meshes.Length
                && m.AllCapabilities().IsSupersetOf(["game", "chat", "counter"])))
            {
                return true;
            }

            await Task.Delay(Poll, CancellationToken.None);
        }

        return false;
    }

    public static void PrintPlacement(IMesh mesh)
    {
        Console.WriteLine($"Where actors live (IMesh.OwnerOf, as {mesh.Self.Name} sees it; every node computes the same):");
        foreach (string capability in new[] { "game", "chat", "counter" })
        {
            Console.WriteLine($"  {capability,-8} served by {string.Join(", ", mesh.NodesFor(capability).Select(static n => n.Name))}");
        }

        foreach ((string capability, string id) in new[]
        {
            ("game", "player_1"), ("game", "player_2"), ("game", "player_3"), ("game", "player_4"),
            ("chat", "room_0"), ("chat", "room_1"), ("counter", "counter_0"), ("counter", "counter_1"),
        })
        {
            Console.WriteLine($"  {capability,-8} {id,-10} shard {mesh.ShardFor(id),4} -> {mesh.OwnerOf(capability, id)?.Name ?? "(nobody)"}");
        }
    }

    public static async Task RunCallsAsync(IMesh[] meshes, TimeSpan? duration, CancellationToken cancellationToken)
    {
        Console.WriteLine(duration is { } d ? $"Calling actors from all nodes for {d.TotalSeconds:0.#} s:" : "Calling actors from all nodes until Ctrl+C:");
        using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (duration is { } limit)
        {
            running.CancelAfter(limit);
        }

        var byOwner = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var errors = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        long calls = 0;
        var callers = new List<Task>();
        for (int n = 0; n < meshes.Length; n++)
        {
            for (int c = 0; c < CallersPerNode; c++)
            {
                IMesh mesh = meshes[n];
                int seed = (n * CallersPerNode) + c;
                callers.Add(Task.Run(() => CallLoopAsync(mesh, seed, byOwner, errors, () => Interlocked.Increment(ref calls), running.Token), CancellationToken.None));
            }
        }

        var clock = Stopwatch.StartNew();
        long lastCalls = 0;
        TimeSpan lastTime = TimeSpan.Zero;
        while (!running.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ReportEvery, running.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            long now = Interlocked.Read(ref calls);
            TimeSpan elapsed = clock.Elapsed;
            double rate = (now - lastCalls) / (elapsed - lastTime).TotalSeconds;
            Console.WriteLine($"  {elapsed.TotalSeconds,5:0} s  {rate,9:N0} calls/s  {Errors(errors)}");
            (lastCalls, lastTime) = (now, elapsed);
        }

        await Task.WhenAll(callers);
        long total = Interlocked.Read(ref calls);
        Console.WriteLine($"{total:N0} calls in {clock.Elapsed.TotalSeconds:0.0} s: {total / clock.Elapsed.TotalSeconds:N0} calls/s on average; {Errors(errors)}");
        Console.WriteLine("Calls by the node that owns the actor: " + string.Join(", ", byOwner.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value * 100.0 / Math.Max(1, total):0.0} %")));
    }

    private static async Task CallLoopAsync(IMesh mesh, int seed, ConcurrentDictionary<string, long> byOwner, ConcurrentDictionary<string, long> errors, Func<long> counted, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        while (!cancellationToken.IsCancellationRequested)
        {
            int pick = random.Next(10);
            (string capability, string id) = pick switch
            {
                < 5 => ("game", $"player_{random.Next(Players)}"),
                < 8 => ("chat", $"room_{random.Next(Rooms)}"),
                _ => ("counter", $"counter_{random.Next(Counters)}"),
            };
            try
            {
                switch (capability)
                {
                    case "game" when pick == 0:
                        // A cast: returns once the message is on its way, with no answer to wait for.
                        await mesh.GetActor<IPlayer>(id).HitAsync(1);
                        break;
                    case "game":
                        await mesh.GetActor<IPlayer>(id).MoveAsync(random.Next(-1, 2), random.Next(-1, 2), CancellationToken.None);
                        break;
                    case "chat":
                        await mesh.GetActor<IChatRoom>(id).PostAsync(mesh.Self.Name, "hello", CancellationToken.None);
                        break;
                    default:
                        await mesh.GetActor<ICounter>(id).IncrementAsync(CancellationToken.None);
                        break;
                }

                counted();
                byOwner.AddOrUpdate(mesh.OwnerOf(capability, id)?.Name ?? "(nobody)", 1, static (_, v) => v + 1);
            }
            catch (MeshException ex)
            {
                // A demo keeps going: it shows failures as counts by type rather than stopping at the first.
                errors.AddOrUpdate(ex.GetType().Name, 1, static (_, v) => v + 1);
            }
        }
    }

    private static string Errors(ConcurrentDictionary<string, long> errors) =>
        errors.IsEmpty ? "no errors" : "errors: " + string.Join(", ", errors.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => $"{p.Key} {p.Value}"));

    public static async Task PrintStateAsync(IMesh mesh)
    {
        Position player = await mesh.GetActor<IPlayer>("player_1").MoveAsync(0, 0);
        string[] recent = await mesh.GetActor<IChatRoom>("room_0").RecentAsync(3);
        int counter = await mesh.GetActor<ICounter>("counter_0").IncrementAsync();
        Console.WriteLine($"State read back from {mesh.Self.Name}:");
        Console.WriteLine($"  player_1 on {mesh.OwnerOf("game", "player_1")?.Name}: at ({player.X}, {player.Y}), health {player.Health}");
        Console.WriteLine($"  room_0 on {mesh.OwnerOf("chat", "room_0")?.Name}: last messages [{string.Join(" | ", recent)}]");
        Console.WriteLine($"  counter_0 on {mesh.OwnerOf("counter", "counter_0")?.Name}: {counter}");
    }
}
