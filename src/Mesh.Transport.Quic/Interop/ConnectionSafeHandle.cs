using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>Owns a native connection; releasing closes it (if still open) and frees it.</summary>
internal sealed class ConnectionSafeHandle : SafeHandle
{
    public ConnectionSafeHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of a handle the native library handed over in an event.</summary>
    public ConnectionSafeHandle(nint existing)
        : base(nint.Zero, ownsHandle: true) => SetHandle(existing);

    public override bool IsInvalid => handle == nint.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.ConnectionFree(handle);
        return true;
    }
}
