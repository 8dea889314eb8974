using Mesh.Transport.Quic;
using Microsoft.Extensions.Logging;

namespace Mesh.Transport;

/// <summary>
/// Creates the transport <see cref="MeshOptions.Transport"/> asks for. QUIC needs the native library libmesh_quic; when
/// it cannot load (missing file, wrong platform or architecture, an incompatible version), the node logs one warning
/// that says why and uses TCP, which needs nothing native.
/// </summary>
internal static class TransportFactory
{
    /// <summary>Creates the transport.</summary>
    /// <param name="transport">The transport configured.</param>
    /// <param name="credentials">The node's credentials.</param>
    /// <param name="metrics">The transport counters.</param>
    /// <param name="logger">Where the fallback warning goes.</param>
    /// <param name="createTcp">Creates the TCP transport (for <see cref="MeshTransport.Tcp"/>, or as the fallback).</param>
    /// <param name="quicOptions">Settings of the QUIC transport; null for the defaults.</param>
    /// <returns>The QUIC transport, or the TCP one when asked for or when QUIC cannot load.</returns>
    public static ITransport Create(
        MeshTransport transport,
        TransportCredentials credentials,
        TransportMetrics metrics,
        ILogger logger,
        Func<ITransport> createTcp,
        QuicTransportOptions? quicOptions = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(createTcp);
        if (transport == MeshTransport.Tcp)
        {
            return createTcp();
        }

        try
        {
            return new QuicTransport(credentials, metrics, logger, quicOptions);
        }
        catch (Exception ex) when (IsUnloadable(ex))
        {
            QuicTransportLog.FallingBackToTcp(logger, DescribeLoadFailure(ex), ex);
            return createTcp();
        }
    }

    /// <summary>Whether <paramref name="exception"/> says the native QUIC library cannot be used here.</summary>
    internal static bool IsUnloadable(Exception exception) => exception switch
    {
        DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or PlatformNotSupportedException => true,
        TypeInitializationException { InnerException: { } inner } => IsUnloadable(inner),
        QuicTransportException { Status: Mesh.Transport.Quic.Interop.QuicStatus.InvalidState } => true,
        _ => false,
    };

    private static string DescribeLoadFailure(Exception exception) => exception switch
    {
        DllNotFoundException => $"the native QUIC library libmesh_quic cannot be loaded ({exception.Message})",
        BadImageFormatException => $"the native QUIC library libmesh_quic is not built for this platform ({exception.Message})",
        EntryPointNotFoundException => $"the native QUIC library libmesh_quic lacks a function this version needs ({exception.Message})",
        PlatformNotSupportedException => $"QUIC is not supported on this platform ({exception.Message})",
        TypeInitializationException { InnerException: { } inner } => DescribeLoadFailure(inner),
        _ => $"the native QUIC library libmesh_quic is an incompatible version ({exception.Message})",
    };
}
