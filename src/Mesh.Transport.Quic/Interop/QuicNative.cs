using System.Text;

namespace Mesh.Transport.Quic.Interop;

/// <summary>Checks of native results: status codes become typed exceptions with the native message.</summary>
internal static unsafe class QuicNative
{
    private static readonly Lazy<uint> s_abiVersion = new(NativeMethods.AbiVersion);

    /// <summary>Throws unless the loaded library implements <see cref="NativeMethods.ExpectedAbiVersion"/>.</summary>
    /// <exception cref="QuicTransportException">The library is a different version.</exception>
    /// <exception cref="DllNotFoundException">libmesh_quic.so cannot be loaded.</exception>
    public static void EnsureCompatible()
    {
        uint version = s_abiVersion.Value;
        if (version != NativeMethods.ExpectedAbiVersion)
        {
            throw new QuicTransportException(
                QuicStatus.InvalidState,
                0,
                $"libmesh_quic implements ABI {version}, this assembly needs {NativeMethods.ExpectedAbiVersion}.");
        }
    }

    /// <summary>Throws the exception matching <paramref name="status"/> with the message of this thread's last failed call.</summary>
    public static void ThrowIfFailed(QuicStatus status)
    {
        if (status != QuicStatus.Ok)
        {
            throw QuicTransportException.Create(status, 0, LastError());
        }
    }

    /// <summary>The message of the last failed native call on this thread.</summary>
    public static string LastError()
    {
        Span<byte> buffer = stackalloc byte[512];
        nuint length;
        fixed (byte* p = buffer)
        {
            length = NativeMethods.LastError(p, (nuint)buffer.Length);
        }

        if (length <= (nuint)buffer.Length)
        {
            return Encoding.UTF8.GetString(buffer[..(int)length]);
        }

        byte[] large = new byte[(int)length];
        fixed (byte* p = large)
        {
            length = NativeMethods.LastError(p, (nuint)large.Length);
        }

        return Encoding.UTF8.GetString(large, 0, (int)Math.Min(length, (nuint)large.Length));
    }

    /// <summary>A snapshot of the library's live handles, tasks and byte totals.</summary>
    public static MeshQuicCounters Counters()
    {
        MeshQuicCounters counters;
        ThrowIfFailed(NativeMethods.Counters(&counters));
        return counters;
    }
}
