using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;

namespace Mesh.Transport.Framing;

/// <summary>
/// The arrays received responses are copied into (<see cref="FramePayload"/>), up to 8 KiB, in power-of-two sizes from
/// 64 bytes. A connection with hundreds of requests in flight holds as many payloads at once, and
/// <see cref="ArrayPool{T}.Shared"/> keeps only a few dozen arrays per size and core: past those, every response was a
/// new array. This pool keeps what is returned to it, up to 16 MiB per process; larger payloads use the shared pool.
/// </summary>
/// <remarks>Lock-free: one <see cref="ConcurrentQueue{T}"/> per size and an interlocked byte count.</remarks>
internal static class PayloadPool
{
    /// <summary>The largest array kept here: 8 KiB.</summary>
    public const int MaxPooledLength = 1 << MaxShift;

    /// <summary>The most bytes of idle arrays the pool keeps.</summary>
    public const long MaxPooledBytes = 16L * 1024 * 1024;

    private const int MinShift = 6;
    private const int MaxShift = 13;
    private static readonly ConcurrentQueue<byte[]>[] s_buckets = CreateBuckets();
    private static long s_pooledBytes;

    /// <summary>Gets how many bytes of idle arrays the pool holds.</summary>
    public static long PooledBytes => Volatile.Read(ref s_pooledBytes);

    /// <summary>Returns an array of at least <paramref name="length"/> (at least one) bytes, not cleared.</summary>
    public static byte[] Rent(int length)
    {
        if (length > MaxPooledLength)
        {
            return ArrayPool<byte>.Shared.Rent(length);
        }

        int shift = Math.Max(MinShift, BitOperations.Log2((uint)Math.Max(length, 1) - 1) + 1);
        if (s_buckets[shift - MinShift].TryDequeue(out byte[]? array))
        {
            Interlocked.Add(ref s_pooledBytes, -array.Length);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(1 << shift);
    }

    /// <summary>Takes back an array from <see cref="Rent"/>; past <see cref="MaxPooledBytes"/> it is left to the GC.</summary>
    public static void Return(byte[] array)
    {
        int length = array.Length;
        if (length > MaxPooledLength || length < 1 << MinShift || !BitOperations.IsPow2(length))
        {
            ArrayPool<byte>.Shared.Return(array);
            return;
        }

        if (Interlocked.Add(ref s_pooledBytes, length) > MaxPooledBytes)
        {
            Interlocked.Add(ref s_pooledBytes, -length);
            return;
        }

        s_buckets[BitOperations.Log2((uint)length) - MinShift].Enqueue(array);
    }

    private static ConcurrentQueue<byte[]>[] CreateBuckets()
    {
        var buckets = new ConcurrentQueue<byte[]>[MaxShift - MinShift + 1];
        for (int i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new ConcurrentQueue<byte[]>();
        }

        return buckets;
    }
}
