namespace Mesh.Transport.Framing;

/// <summary>Why an inbound frame was refused (see <see cref="FrameFormatException"/>).</summary>
internal enum FrameFormatError
{
    /// <summary>Not an error.</summary>
    None = 0,

    /// <summary>The length field exceeds the maximum frame size; nothing was allocated for it.</summary>
    Oversized,

    /// <summary>The two reserved bytes are not zero.</summary>
    ReservedBitsSet,

    /// <summary>The flags byte has a bit this protocol version does not define.</summary>
    UnknownFlags,

    /// <summary>The kind byte is not a <see cref="FrameKind"/>.</summary>
    UnknownKind,

    /// <summary>A request, response or error frame has correlation id zero, or a one-way frame a non-zero one.</summary>
    InvalidCorrelationId,

    /// <summary>The stream ended in the middle of a frame.</summary>
    Truncated,
}
