using System.Collections.Concurrent;

namespace Mesh.Transport.Framing;

/// <summary>
/// The requests of one connection: slots indexed by the low 32 bits of the correlation id, and a free list. Renting and
/// returning take no lock and allocate nothing once the table has as many slots as the most requests ever in flight at
/// once; only adding a slot (growth) takes a lock.
/// </summary>
/// <remarks>
/// Threads: callers rent, callers return (from <see cref="PendingRequest.GetResult"/>), the read loop and the timeout
/// scan look slots up. The slot array only grows; it is replaced (copied, then published with a volatile write) under
/// <see cref="_growLock"/>, and an id is only ever sent after its slot was published, so a lookup always finds it.
/// </remarks>
internal sealed class PendingRequestTable
{
    private readonly ConcurrentQueue<PendingRequest> _free = new();
    private readonly Lock _growLock = new();
    private PendingRequest[] _slots = new PendingRequest[16];
    private int _count;

    /// <summary>Initializes a new instance of the <see cref="PendingRequestTable"/> class.</summary>
    /// <param name="handOffs">Where the requests count the answers handed to callers that wait on the thread pool.</param>
    public PendingRequestTable(HandOffs handOffs) => HandOffs = handOffs;

    /// <summary>Gets where the requests count answers handed to callers waiting on the thread pool.</summary>
    public HandOffs HandOffs { get; }

    /// <summary>Gets how many slots exist (the most requests that were ever in flight at once).</summary>
    public int Capacity => Volatile.Read(ref _count);

    public PendingRequest Rent() => _free.TryDequeue(out PendingRequest? request) ? request : Grow();

    public void Return(PendingRequest request) => _free.Enqueue(request);

    /// <summary>Finds the request in flight with <paramref name="id"/>, or <see langword="null"/> if it completed already.</summary>
    public PendingRequest? Find(ulong id)
    {
        uint slot = (uint)id;
        PendingRequest[] slots = Volatile.Read(ref _slots);
        if (slot >= (uint)slots.Length)
        {
            return null;
        }

        PendingRequest? request = slots[slot];
        return request is not null && request.ActiveId == id ? request : null;
    }

    /// <summary>Calls <paramref name="action"/> for every request in flight (the timeout scan, and failing them all).</summary>
    public void ForEachActive<TState>(Action<PendingRequest, ulong, TState> action, TState state)
    {
        PendingRequest[] slots = Volatile.Read(ref _slots);
        int count = Math.Min(Volatile.Read(ref _count), slots.Length);
        for (int i = 0; i < count; i++)
        {
            PendingRequest? request = slots[i];
            if (request is null)
            {
                continue;
            }

            ulong id = request.ActiveId;
            if (id != 0)
            {
                action(request, id, state);
            }
        }
    }

    private PendingRequest Grow()
    {
        lock (_growLock)
        {
            int slot = _count;
            PendingRequest[] slots = _slots;
            if (slot == slots.Length)
            {
                Array.Resize(ref slots, slots.Length * 2);
            }

            var request = new PendingRequest(this, slot);
            slots[slot] = request;
            Volatile.Write(ref _slots, slots);
            Volatile.Write(ref _count, slot + 1);
            return request;
        }
    }
}
