using System.Diagnostics.CodeAnalysis;

namespace Mesh.Runtime;

/// <summary>
/// An activation's mailbox queue: many producers, one consumer (whoever holds the activation's turn), FIFO, intrusive
/// (linked through <see cref="WorkItem.Next"/>), so it allocates nothing per item and costs two references when empty.
/// Producers push onto a lock-free stack; the consumer takes the whole stack with one exchange and reverses it into
/// a private list it pops from. It replaces a <c>ConcurrentQueue</c>, whose first segment alone (32 slots and padded
/// head/tail indexes) kept about 830 bytes alive per idle activation.
/// </summary>
/// <remarks>A mutable struct held in a field of <see cref="Activation"/>: never copy it.</remarks>
internal struct WorkItemQueue
{
    // Pushed by producers, newest first.
    private WorkItem? _incoming;

    // Taken by the consumer, oldest first; touched only by the thread that holds the turn.
    private WorkItem? _outgoing;

    /// <summary>Gets whether nothing is queued. Exact for the consumer; a hint for any other thread.</summary>
    public bool IsEmpty => _outgoing is null && Volatile.Read(ref _incoming) is null;

    /// <summary>Adds <paramref name="item"/> (from any thread); a full fence.</summary>
    public void Enqueue(WorkItem item)
    {
        WorkItem? head = Volatile.Read(ref _incoming);
        while (true)
        {
            item.Next = head;
            WorkItem? seen = Interlocked.CompareExchange(ref _incoming, item, head);
            if (ReferenceEquals(seen, head))
            {
                return;
            }

            head = seen;
        }
    }

    /// <summary>Takes the oldest item. Only the thread that holds the activation's turn may call this.</summary>
    public bool TryDequeue([NotNullWhen(true)] out WorkItem? item)
    {
        item = _outgoing;
        if (item is null)
        {
            WorkItem? taken = Interlocked.Exchange(ref _incoming, null);
            if (taken is null)
            {
                return false;
            }

            // Reverse the newest-first stack into oldest-first order.
            WorkItem? reversed = null;
            while (taken is not null)
            {
                WorkItem? next = taken.Next;
                taken.Next = reversed;
                reversed = taken;
                taken = next;
            }

            item = reversed!;
        }

        _outgoing = item.Next;
        item.Next = null;
        return true;
    }
}
