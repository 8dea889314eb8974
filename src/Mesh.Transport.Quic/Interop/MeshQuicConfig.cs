namespace Mesh.Transport.Quic.Interop;

/// <summary>
/// The endpoint configuration (<c>MeshQuicConfig</c> in native/src/config.rs). Field order and
/// types are ABI; <see cref="Size"/> lets the native side refuse a mismatched layout.
/// </summary>
internal unsafe struct MeshQuicConfig
{
    /// <summary>Bit of <see cref="Flags"/>: accept incoming connections.</summary>
    public const uint FlagAcceptIncoming = 1;

    public uint Size;
    public uint Flags;
    public MeshQuicBytes BindAddress;
    public MeshQuicBytes CertificateChain;
    public MeshQuicBytes PrivateKey;
    public MeshQuicBytes TrustedCa;
    public MeshQuicBytes Alpn;
    public ulong IdleTimeoutMs;
    public ulong KeepAliveIntervalMs;
    public uint MaxSendBatchBytes;
    public uint MaxBidiStreams;
    public uint StreamReceiveWindow;
    public uint ReceiveBatchChunks;
    public delegate* unmanaged[Cdecl]<nint, MeshQuicEvent*, nuint, int> Callback;
    public nint Context;
    public MeshQuicBytes PinnedSha256;
    public uint ReceiveSpinMicroseconds;
}
