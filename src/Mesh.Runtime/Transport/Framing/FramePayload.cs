using System.Buffers;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Framing;

/// <summary>A response payload: in the answer buffer of the request it answers (<see cref="PendingRequest"/>), or in a
/// pooled array (<see cref="PayloadPool"/>) when it is too large for that. Dispose it exactly once when done, which
/// gives the request's slot back to its table or the array back to the pool; a default instance is empty.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct FramePayload : IDisposable
{
    private readonly byte[]? _array;
    private readonly PendingRequest? _owner;

    internal FramePayload(byte[]? array, int length, PendingRequest? owner = null)
    {
        _array = array;
        Length = length;
        _owner = owner;
    }

    /// <summary>Gets the payload's length in bytes.</summary>
    public int Length { get; }

    /// <summary>Gets the payload.</summary>
    public ReadOnlySpan<byte> Span => _array is null ? default : _array.AsSpan(0, Length);

    /// <summary>Gets the payload.</summary>
    public ReadOnlyMemory<byte> Memory => _array is null ? default : _array.AsMemory(0, Length);

    internal static FramePayload CopyOf(in ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return default;
        }

        int length = (int)payload.Length;
        byte[] array = PayloadPool.Rent(length);
        payload.CopyTo(array);
        return new FramePayload(array, length);
    }

    /// <summary>Gets whether the payload lives in <paramref name="request"/>'s answer buffer.</summary>
    internal bool IsOwnedBy(PendingRequest request) => ReferenceEquals(_owner, request);

    /// <summary>Returns the request's slot to its table, or the array to the pool.</summary>
    public void Dispose()
    {
        if (_owner is not null)
        {
            _owner.ReleaseAnswer();
        }
        else if (_array is not null)
        {
            PayloadPool.Return(_array);
        }
    }

    /// <summary>Drops a payload that no caller received (its request had completed already): a pooled array goes back to
    /// the pool; a request's answer buffer stays with the request, whose slot belongs to whoever completed it.</summary>
    internal void Discard()
    {
        if (_owner is null && _array is not null)
        {
            PayloadPool.Return(_array);
        }
    }
}
