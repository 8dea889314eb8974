using System.Collections.Concurrent;

namespace Mesh.Cluster.TestNode;

/// <summary>The actor ids active in this process, per capability, and counters of what happened to them. Actors
/// update it from their lifecycle hooks (any thread); the command loop reads it.</summary>
public static class ActiveActors
{
    private static readonly ConcurrentDictionary<ActorId, byte> s_active = new();
    private static long s_activations;
    private static long s_deactivations;
    private static long s_rebalanced;
    private static long s_calls;

    /// <summary>Gets how many activations ran in this process.</summary>
    public static long Activations => Interlocked.Read(ref s_activations);

    /// <summary>Gets how many deactivations ran in this process.</summary>
    public static long Deactivations => Interlocked.Read(ref s_deactivations);

    /// <summary>Gets how many deactivations were for rebalancing (the node no longer owns the id).</summary>
    public static long Rebalanced => Interlocked.Read(ref s_rebalanced);

    /// <summary>Gets how many calls actors of this process answered.</summary>
    public static long Calls => Interlocked.Read(ref s_calls);

    /// <summary>Gets how many actors are active now.</summary>
    public static int Count => s_active.Count;

    internal static void Activated(ActorId id)
    {
        s_active.TryAdd(id, 0);
        Interlocked.Increment(ref s_activations);
    }

    internal static void Deactivated(ActorId id, DeactivationReason reason)
    {
        s_active.TryRemove(id, out _);
        Interlocked.Increment(ref s_deactivations);
        if (reason == DeactivationReason.Rebalanced)
        {
            Interlocked.Increment(ref s_rebalanced);
        }
    }

    internal static void CallHandled() => Interlocked.Increment(ref s_calls);

    /// <summary>Gets the keys of the active actors of <paramref name="capability"/>, sorted.</summary>
    /// <param name="capability">The capability.</param>
    /// <returns>The keys.</returns>
    public static List<string> Keys(string capability)
    {
        var keys = new List<string>();
        foreach (ActorId id in s_active.Keys)
        {
            if (string.Equals(id.Capability, capability, StringComparison.Ordinal))
            {
                keys.Add(id.Key);
            }
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }
}
