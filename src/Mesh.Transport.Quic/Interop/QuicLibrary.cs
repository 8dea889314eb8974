using System.Reflection;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Quic.Interop;

/// <summary>
/// Loads libmesh_quic: from the default probing paths (next to the assembly, or
/// <c>runtimes/linux-x64/native</c> of a package), or from an explicit file given to <see cref="Load"/> or in the
/// <see cref="PathVariable"/> environment variable.
/// </summary>
/// <remarks>
/// The import resolver is registered once per process; it only redirects <see cref="NativeMethods.Library"/> to a file
/// that <see cref="Load"/> opened successfully, so a failed explicit load never affects endpoints already working.
/// </remarks>
internal static class QuicLibrary
{
    /// <summary>The environment variable naming the library file to load instead of the default one.</summary>
    public const string PathVariable = "MESH_QUIC_NATIVE_LIBRARY";

    private static readonly Lock s_gate = new();
    private static bool s_resolverRegistered;
    private static nint s_explicitHandle;

    /// <summary>
    /// Loads the native library and checks that it implements the ABI this assembly needs. Safe to call many times.
    /// </summary>
    /// <param name="path">A library file to load instead of the default; null for <see cref="PathVariable"/>, then the
    /// default probing.</param>
    /// <exception cref="DllNotFoundException">The library (or one it needs) cannot be found or loaded.</exception>
    /// <exception cref="BadImageFormatException">The file is not a library for this platform.</exception>
    /// <exception cref="EntryPointNotFoundException">The library lacks an export this assembly calls.</exception>
    /// <exception cref="QuicTransportException">The library implements another ABI version.</exception>
    public static void Load(string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable(PathVariable);
        lock (s_gate)
        {
            if (!s_resolverRegistered)
            {
                NativeLibrary.SetDllImportResolver(typeof(QuicLibrary).Assembly, Resolve);
                s_resolverRegistered = true;
            }

            if (!string.IsNullOrEmpty(path))
            {
                nint handle = NativeLibrary.Load(path);
                // Fails with EntryPointNotFoundException for a library that is not mesh_quic.
                _ = NativeLibrary.GetExport(handle, "mesh_quic_abi_version");
                if (s_explicitHandle == nint.Zero)
                {
                    s_explicitHandle = handle;
                }
            }
        }

        QuicNative.EnsureCompatible();
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == NativeMethods.Library ? Volatile.Read(ref s_explicitHandle) : nint.Zero;
}
