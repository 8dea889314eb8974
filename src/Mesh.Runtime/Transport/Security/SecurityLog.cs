using Microsoft.Extensions.Logging;

namespace Mesh.Transport.Security;

/// <summary>Log messages of the certificate loader (event ids 320-329).</summary>
internal static partial class SecurityLog
{
    [LoggerMessage(320, LogLevel.Warning, "Using development certificates from {Folder} (cluster CA {CaThumbprint}): every process that can read this folder can join the cluster. Set Mesh:Tls:CertificatePath and Mesh:Tls:ClusterCaPath outside development.")]
    public static partial void UsingDevelopmentCertificates(ILogger logger, string folder, string caThumbprint);

    [LoggerMessage(321, LogLevel.Information, "Created development certificates in {Folder} (cluster CA {CaThumbprint}, node certificate valid until {NotAfter:u})")]
    public static partial void CreatedDevelopmentCertificates(ILogger logger, string folder, string caThumbprint, DateTime notAfter);

    [LoggerMessage(322, LogLevel.Warning, "The development certificates in {Folder} are unusable ({Reason}); creating new ones, which nodes still using the old ones will not trust")]
    public static partial void ReplacingDevelopmentCertificates(ILogger logger, string folder, string reason);

    [LoggerMessage(323, LogLevel.Information, "Loaded node certificate {Subject} (SHA-256 {Thumbprint}, valid until {NotAfter:u}); trusting {AuthorityCount} cluster CA certificate(s) and {PinnedCount} pinned thumbprint(s)")]
    public static partial void LoadedCertificates(ILogger logger, string subject, string thumbprint, DateTime notAfter, int authorityCount, int pinnedCount);
}
