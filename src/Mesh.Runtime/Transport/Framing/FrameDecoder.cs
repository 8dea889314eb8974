using System.Buffers;

namespace Mesh.Transport.Framing;

/// <summary>
/// Reads frames out of received bytes. Allocates nothing on success: the payload is a slice of the input, valid until
/// the reader advances past it. The header is validated as soon as its 16 bytes are there, so an oversized or malformed
/// frame is refused before a byte of its payload is waited for, let alone allocated.
/// </summary>
internal static class FrameDecoder
{
    /// <summary>Reads one frame from the front of <paramref name="buffer"/>, which may span any number of segments.</summary>
    /// <param name="buffer">The bytes received and not yet consumed; on success, advanced past the frame.</param>
    /// <param name="maxPayloadLength">The largest payload accepted (<c>MeshOptions.MaxFrameSize</c>).</param>
    /// <param name="header">The frame's header.</param>
    /// <param name="payload">The frame's payload, a slice of <paramref name="buffer"/>.</param>
    /// <returns><see langword="true"/> when a whole frame was read; <see langword="false"/> when more bytes are needed
    /// (<paramref name="buffer"/> is left as it was).</returns>
    /// <exception cref="FrameFormatException">The header breaks the protocol; the connection must be closed.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, int maxPayloadLength, out FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        if (!TryReadHeader(buffer, maxPayloadLength, out header))
        {
            payload = default;
            return false;
        }

        long frameLength = FrameHeader.Size + (long)header.PayloadLength;
        if (buffer.Length < frameLength)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(FrameHeader.Size, header.PayloadLength);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>Reads and validates the header at the front of <paramref name="buffer"/>, if its 16 bytes are there.</summary>
    /// <exception cref="FrameFormatException">The header breaks the protocol.</exception>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, int maxPayloadLength, out FrameHeader header)
    {
        if (buffer.Length < FrameHeader.Size)
        {
            header = default;
            return false;
        }

        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= FrameHeader.Size)
        {
            header = FrameHeader.Read(first);
        }
        else
        {
            // The header straddles segments: gather it on the stack.
            Span<byte> scratch = stackalloc byte[FrameHeader.Size];
            buffer.Slice(0, FrameHeader.Size).CopyTo(scratch);
            header = FrameHeader.Read(scratch);
        }

        FrameFormatError error = header.Validate(maxPayloadLength);
        if (error != FrameFormatError.None)
        {
            ThrowInvalid(error, header, maxPayloadLength);
        }

        return true;
    }

    /// <summary>Throws the exception for a stream that ended with <paramref name="remaining"/> bytes of an unfinished frame.</summary>
    public static void ThrowTruncated(long remaining) =>
        throw new FrameFormatException(FrameFormatError.Truncated, $"The stream ended inside a frame ({remaining} bytes of it received).");

    private static void ThrowInvalid(FrameFormatError error, FrameHeader header, int maxPayloadLength)
    {
        string message = error switch
        {
            FrameFormatError.Oversized => $"The frame's length field says {header.PayloadLength} bytes, more than the maximum frame size of {maxPayloadLength} bytes (MeshOptions.MaxFrameSize).",
            FrameFormatError.ReservedBitsSet => $"The frame's reserved field is 0x{header.Reserved:X4}; it must be zero.",
            FrameFormatError.UnknownFlags => $"The frame's flags are 0x{(byte)header.Flags:X2}; protocol mesh/1 defines none.",
            FrameFormatError.UnknownKind => $"The frame's kind {(byte)header.Kind} is not a frame kind of protocol mesh/1.",
            FrameFormatError.InvalidCorrelationId => $"A {header.Kind} frame cannot have correlation id {header.CorrelationId}.",
            _ => "The frame is malformed.",
        };
        throw new FrameFormatException(error, message);
    }
}
