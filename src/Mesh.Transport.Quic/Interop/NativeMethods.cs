using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>
/// P/Invoke declarations of libmesh_quic (native/src/lib.rs). Handles cross as SafeHandles, so a
/// handle cannot be freed while a call is using it; byte ranges cross as <see cref="MeshQuicBytes"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    /// <summary>Resolved as libmesh_quic.so next to the assembly or under runtimes/linux-x64/native.</summary>
    public const string Library = "mesh_quic";

    /// <summary>The ABI this assembly was written against (<c>ABI_VERSION</c> in native/src/lib.rs).</summary>
    public const uint ExpectedAbiVersion = 5;

    /// <summary>Flag of <see cref="StreamSend"/>: finish the send side after the batch.</summary>
    public const uint SendFin = 1;

    /// <summary>Returned by the event callback to pause reading the stream of a StreamData batch.</summary>
    public const int PauseReading = 1;

    [LibraryImport(Library, EntryPoint = "mesh_quic_abi_version")]
    public static partial uint AbiVersion();

    [LibraryImport(Library, EntryPoint = "mesh_quic_last_error")]
    public static partial nuint LastError(byte* buffer, nuint capacity);

    [LibraryImport(Library, EntryPoint = "mesh_quic_counters")]
    public static partial QuicStatus Counters(MeshQuicCounters* counters);

    [LibraryImport(Library, EntryPoint = "mesh_quic_endpoint_create")]
    public static partial QuicStatus EndpointCreate(MeshQuicConfig* config, out EndpointSafeHandle endpoint);

    [LibraryImport(Library, EntryPoint = "mesh_quic_endpoint_local_port")]
    public static partial QuicStatus EndpointLocalPort(EndpointSafeHandle endpoint, out ushort port);

    [LibraryImport(Library, EntryPoint = "mesh_quic_endpoint_open_connections")]
    public static partial QuicStatus EndpointOpenConnections(EndpointSafeHandle endpoint, out ulong count);

    [LibraryImport(Library, EntryPoint = "mesh_quic_endpoint_connect")]
    public static partial QuicStatus EndpointConnect(EndpointSafeHandle endpoint, MeshQuicBytes address, MeshQuicBytes serverName, ulong token);

    [LibraryImport(Library, EntryPoint = "mesh_quic_endpoint_free")]
    public static partial void EndpointFree(nint endpoint);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_start")]
    public static partial QuicStatus ConnectionStart(ConnectionSafeHandle connection, ulong token);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_open_stream")]
    public static partial QuicStatus ConnectionOpenStream(ConnectionSafeHandle connection, ulong token, out StreamSafeHandle stream);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_peer_certificate")]
    public static partial QuicStatus ConnectionPeerCertificate(ConnectionSafeHandle connection, nuint index, byte* buffer, nuint capacity, out nuint length);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_remote_address")]
    public static partial QuicStatus ConnectionRemoteAddress(ConnectionSafeHandle connection, byte* buffer, nuint capacity, out nuint length);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_close")]
    public static partial QuicStatus ConnectionClose(ConnectionSafeHandle connection, ulong code, MeshQuicBytes reason);

    [LibraryImport(Library, EntryPoint = "mesh_quic_connection_free")]
    public static partial void ConnectionFree(nint connection);

    [LibraryImport(Library, EntryPoint = "mesh_quic_stream_start")]
    public static partial QuicStatus StreamStart(StreamSafeHandle stream, ulong token);

    [LibraryImport(Library, EntryPoint = "mesh_quic_stream_send")]
    public static partial QuicStatus StreamSend(StreamSafeHandle stream, MeshQuicBytes* buffers, nuint count, uint flags, ulong sendToken);

    [LibraryImport(Library, EntryPoint = "mesh_quic_stream_resume_reading")]
    public static partial QuicStatus StreamResumeReading(StreamSafeHandle stream);

    [LibraryImport(Library, EntryPoint = "mesh_quic_stream_abort")]
    public static partial QuicStatus StreamAbort(StreamSafeHandle stream, ulong code);

    [LibraryImport(Library, EntryPoint = "mesh_quic_stream_free")]
    public static partial void StreamFree(nint stream);
}
