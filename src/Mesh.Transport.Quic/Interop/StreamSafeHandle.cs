using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>Owns a native stream; releasing resets an unfinished send side, stops reading and frees it.</summary>
internal sealed class StreamSafeHandle : SafeHandle
{
    public StreamSafeHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of a handle the native library handed over in an event.</summary>
    public StreamSafeHandle(nint existing)
        : base(nint.Zero, ownsHandle: true) => SetHandle(existing);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.StreamFree(handle);
        return true;
    }
}
