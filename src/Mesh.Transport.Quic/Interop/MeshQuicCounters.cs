using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>Process-wide counters of the native library (<c>MeshQuicCounters</c>), for leak tests and diagnostics.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct MeshQuicCounters(
    long EndpointHandles,
    long ConnectionHandles,
    long StreamHandles,
    long ConnectionTasks,
    long StreamTasks,
    long QueuedSendBytes,
    long BytesSent,
    long BytesReceived,
    long HeapBytes,
    long HeapBlocks)
{
    /// <summary>True when no handle, task or queued byte is left, i.e. every object was released.</summary>
    public bool IsIdle =>
        EndpointHandles == 0 && ConnectionHandles == 0 && StreamHandles == 0 &&
        ConnectionTasks == 0 && StreamTasks == 0 && QueuedSendBytes == 0;

    /// <summary>True when the live-object counts equal <paramref name="baseline"/>'s (totals and heap are ignored: the
    /// heap also holds the runtime's caches, which leak tests compare with a tolerance).</summary>
    public bool LiveCountsEqual(MeshQuicCounters baseline) =>
        EndpointHandles == baseline.EndpointHandles && ConnectionHandles == baseline.ConnectionHandles &&
        StreamHandles == baseline.StreamHandles && ConnectionTasks == baseline.ConnectionTasks &&
        StreamTasks == baseline.StreamTasks && QueuedSendBytes == baseline.QueuedSendBytes;
}
