namespace Mesh.Transport.Quic.Interop;

/// <summary>One event of a batch handed to the endpoint's callback (<c>MeshQuicEvent</c>).</summary>
internal readonly unsafe struct MeshQuicEvent
{
    public readonly QuicEventKind Kind;
    public readonly QuicStatus Status;
    public readonly ulong Token;
    public readonly ulong Aux;
    public readonly nint Handle;
    public readonly byte* Data;
    public readonly nuint Length;

    /// <summary>Received bytes (StreamData) or the UTF-8 failure message; valid during the callback only.</summary>
    public ReadOnlySpan<byte> Span => new(Data, checked((int)Length));
}
