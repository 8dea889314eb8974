namespace Mesh.Transport.Framing;

/// <summary>An inbound frame broke the framing protocol; the connection that carried it is closed.</summary>
internal sealed class FrameFormatException : TransportException
{
    /// <summary>Initializes a new instance of the <see cref="FrameFormatException"/> class.</summary>
    public FrameFormatException()
        : this(FrameFormatError.None, "The frame is malformed.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FrameFormatException"/> class.</summary>
    /// <param name="message">What was wrong.</param>
    public FrameFormatException(string message)
        : this(FrameFormatError.None, message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FrameFormatException"/> class.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FrameFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="FrameFormatException"/> class.</summary>
    /// <param name="error">Why the frame was refused.</param>
    /// <param name="message">What was wrong, with the offending values.</param>
    public FrameFormatException(FrameFormatError error, string message)
        : base(message)
    {
        Error = error;
    }

    /// <summary>Gets why the frame was refused.</summary>
    public FrameFormatError Error { get; }

    /// <summary>Gets the short, fixed name of <see cref="Error"/> used as the <c>error.type</c> of metrics.</summary>
    public string MetricKind => KindOf(Error);

    internal static string KindOf(FrameFormatError error) => error switch
    {
        FrameFormatError.Oversized => "oversized_frame",
        FrameFormatError.ReservedBitsSet => "reserved_bits_set",
        FrameFormatError.UnknownFlags => "unknown_flags",
        FrameFormatError.UnknownKind => "unknown_frame_kind",
        FrameFormatError.InvalidCorrelationId => "invalid_correlation_id",
        FrameFormatError.Truncated => "truncated_frame",
        _ => "malformed_frame",
    };
}
