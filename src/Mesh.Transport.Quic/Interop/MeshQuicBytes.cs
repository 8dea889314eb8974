namespace Mesh.Transport.Quic.Interop;

/// <summary>A borrowed byte range (<c>MeshQuicBytes</c>): valid only for the call it is passed to.</summary>
internal readonly unsafe struct MeshQuicBytes
{
    public readonly byte* Pointer;
    public readonly nuint Length;

    public MeshQuicBytes(byte* pointer, int length)
    {
        Pointer = pointer;
        Length = (nuint)length;
    }
}
