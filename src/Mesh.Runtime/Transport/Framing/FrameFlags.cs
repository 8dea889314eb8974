namespace Mesh.Transport.Framing;

/// <summary>Bits of the flags byte (offset 5 of <see cref="FrameHeader"/>). Version 1 of the protocol (<c>mesh/1</c>)
/// defines none: a frame with any bit set closes its connection, so a later version can give bits a meaning that an
/// older peer refuses rather than misreads.</summary>
[Flags]
internal enum FrameFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,
}
