using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>
/// Owns a native endpoint and the <see cref="GCHandle"/> its callback context points at. Releasing
/// frees the endpoint first (after which no callback runs any more), then the GCHandle.
/// </summary>
internal sealed class EndpointSafeHandle : SafeHandle
{
    private GCHandle _context;

    public EndpointSafeHandle()
        : base(nint.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == nint.Zero;

    /// <summary>Hands the callback context to this handle, which frees it after the endpoint.</summary>
    public void AdoptContext(GCHandle context) => _context = context;

    protected override bool ReleaseHandle()
    {
        NativeMethods.EndpointFree(handle);
        if (_context.IsAllocated)
        {
            _context.Free();
        }

        return true;
    }
}
