using System.Buffers;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Framing;

/// <summary>A response payload in a pooled array (<see cref="PayloadPool"/>). Dispose it exactly once when done, which
/// returns the array to the pool; a default instance is empty.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct FramePayload : IDisposable
{
    private readonly byte[]? _array;

    internal FramePayload(byte[]? array, int length)
    {
        _array = array;
        Length = length;
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

    /// <summary>Returns the array to the pool.</summary>
    public void Dispose()
    {
        if (_array is not null)
        {
            PayloadPool.Return(_array);
        }
    }
}
