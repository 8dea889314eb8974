using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Framing;

/// <summary>
/// The fixed 16-byte header in front of every frame, little-endian:
/// <code>
/// offset 0  uint32  payload length (bytes after the header; at most the maximum frame size)
/// offset 4  byte    kind (FrameKind)
/// offset 5  byte    flags (FrameFlags; none defined in mesh/1, must be zero)
/// offset 6  uint16  reserved, must be zero
/// offset 8  uint64  correlation id (zero for one-way and go-away frames)
/// </code>
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct FrameHeader : IEquatable<FrameHeader>
{
    /// <summary>The size of the header on the wire, in bytes.</summary>
    public const int Size = 16;

    public FrameHeader(FrameKind kind, ulong correlationId, int payloadLength, FrameFlags flags = FrameFlags.None)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        Kind = kind;
        CorrelationId = correlationId;
        PayloadLength = (uint)payloadLength;
        Flags = flags;
        Reserved = 0;
    }

    private FrameHeader(uint payloadLength, FrameKind kind, FrameFlags flags, ushort reserved, ulong correlationId)
    {
        PayloadLength = payloadLength;
        Kind = kind;
        Flags = flags;
        Reserved = reserved;
        CorrelationId = correlationId;
    }

    /// <summary>Gets the number of payload bytes after the header, as the length field says (not yet validated when
    /// the header came from <see cref="Read"/>).</summary>
    public uint PayloadLength { get; }

    public FrameKind Kind { get; }

    public FrameFlags Flags { get; }

    /// <summary>Gets the reserved field; zero in every valid frame.</summary>
    public ushort Reserved { get; }

    public ulong CorrelationId { get; }

    public static bool operator ==(FrameHeader left, FrameHeader right) => left.Equals(right);

    public static bool operator !=(FrameHeader left, FrameHeader right) => !left.Equals(right);

    /// <summary>Reads a header exactly as it is on the wire, without validating it.</summary>
    /// <param name="source">At least <see cref="Size"/> bytes.</param>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        return new FrameHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            (FrameKind)source[4],
            (FrameFlags)source[5],
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
    }

    /// <summary>Writes the header in its wire layout.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], CorrelationId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, PayloadLength);
        destination[4] = (byte)Kind;
        destination[5] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Reserved);
    }

    /// <summary>Checks the header against the protocol; returns <see cref="FrameFormatError.None"/> when it is valid.</summary>
    /// <param name="maxPayloadLength">The largest payload accepted (<c>MeshOptions.MaxFrameSize</c>).</param>
    public FrameFormatError Validate(int maxPayloadLength)
    {
        if (PayloadLength > (uint)maxPayloadLength)
        {
            return FrameFormatError.Oversized;
        }

        if (Reserved != 0)
        {
            return FrameFormatError.ReservedBitsSet;
        }

        if (Flags != FrameFlags.None)
        {
            return FrameFormatError.UnknownFlags;
        }

        switch (Kind)
        {
            case FrameKind.Request:
            case FrameKind.Response:
            case FrameKind.Error:
                return CorrelationId == 0 ? FrameFormatError.InvalidCorrelationId : FrameFormatError.None;
            case FrameKind.OneWay:
            case FrameKind.GoAway:
                return CorrelationId != 0 ? FrameFormatError.InvalidCorrelationId : FrameFormatError.None;
            case FrameKind.Ping:
            case FrameKind.Pong:
                return FrameFormatError.None;
            default:
                return FrameFormatError.UnknownKind;
        }
    }

    public bool Equals(FrameHeader other) =>
        PayloadLength == other.PayloadLength && Kind == other.Kind && Flags == other.Flags && Reserved == other.Reserved && CorrelationId == other.CorrelationId;

    public override bool Equals(object? obj) => obj is FrameHeader other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(PayloadLength, Kind, Flags, Reserved, CorrelationId);

    public override string ToString() => $"{Kind} #{CorrelationId} ({PayloadLength} bytes)";
}
