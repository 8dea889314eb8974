using System.Collections.Concurrent;

namespace Mesh.Runtime;

/// <summary>
/// A pool of reusable objects for the hot path: one object cached per thread (a call that rents and returns on the same
/// thread touches no shared state) behind a shared queue holding at most the limit its owner gives. One pool per type
/// (the statics are per closed generic type).
/// </summary>
/// <typeparam name="T">The pooled type.</typeparam>
internal static class ThreadCachedPool<T>
    where T : class
{
    private static readonly ConcurrentQueue<T> s_pool = new();
    private static int s_pooled;

    [ThreadStatic]
    private static T? t_cached;

    /// <summary>Takes a pooled object, or returns false when the pool is empty.</summary>
    public static bool TryRent([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        item = t_cached;
        if (item is not null)
        {
            t_cached = null;
            return true;
        }

        if (s_pool.TryDequeue(out item))
        {
            Interlocked.Decrement(ref s_pooled);
            return true;
        }

        return false;
    }

    /// <summary>Keeps <paramref name="item"/> for a later <see cref="TryRent"/>; returns false when the shared queue
    /// holds <paramref name="limit"/> objects already, and the caller then releases what the object holds.</summary>
    public static bool TryReturn(T item, int limit)
    {
        if (t_cached is null)
        {
            t_cached = item;
            return true;
        }

        if (Interlocked.Increment(ref s_pooled) <= limit)
        {
            s_pool.Enqueue(item);
            return true;
        }

        Interlocked.Decrement(ref s_pooled);
        return false;
    }
}
