using Microsoft.Extensions.Options;

namespace Mesh.Runtime;

/// <summary>Checks <see cref="MeshOptions"/> when the host starts; every failure names the option and says what is allowed.</summary>
internal sealed class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
    private const int MaxShardCount = 1 << 20;
    private const int MinFrameSize = 1024;
    private const int MaxFrameSize = 1024 * 1024 * 1024;

    public ValidateOptionsResult Validate(string? name, MeshOptions options)
    {
        List<string> failures = [.. options.ConfigurationErrors];
        Positive(options.DefaultCallTimeout, nameof(MeshOptions.DefaultCallTimeout), failures);
        Positive(options.IdleTimeout, nameof(MeshOptions.IdleTimeout), failures);
        Positive(options.ShutdownTimeout, nameof(MeshOptions.ShutdownTimeout), failures);
        if (options.MailboxCapacity < 1)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.MailboxCapacity)} must be at least 1 (was {options.MailboxCapacity}).");
        }

        if (options.ShardCount is < 1 or > MaxShardCount)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.ShardCount)} must be between 1 and {MaxShardCount} (was {options.ShardCount}).");
        }

        if (options.MaxFrameSize is < MinFrameSize or > MaxFrameSize)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.MaxFrameSize)} must be between {MinFrameSize} and {MaxFrameSize} bytes (was {options.MaxFrameSize}).");
        }

        if (options.ReceiveSpinTime < TimeSpan.Zero || options.ReceiveSpinTime > Mesh.Transport.Quic.QuicEndpointOptions.MaxReceiveSpinTime)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.ReceiveSpinTime)} must be between 0 and {Mesh.Transport.Quic.QuicEndpointOptions.MaxReceiveSpinTime.TotalMilliseconds} ms (was {options.ReceiveSpinTime}).");
        }

        if (!Enum.IsDefined(options.Transport))
        {
            failures.Add($"Mesh:{nameof(MeshOptions.Transport)} is {(int)options.Transport}: use Quic or Tcp.");
        }

        ValidateCluster(options, failures);
        ValidateTls(options.Tls, failures);
        foreach (string capability in options.Capabilities)
        {
            if (!Capabilities.IsValidName(capability))
            {
                failures.Add($"Mesh:{nameof(MeshOptions.Capabilities)} contains '{capability}', which is not a capability name: use lower-case letters, digits, '_', '.' and '-', starting with a letter.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateCluster(MeshOptions options, List<string> failures)
    {
        if (options.Endpoint is not null && !HostPort.TryParse(options.Endpoint, allowPortZero: true, out _, out _, out string? error))
        {
            failures.Add($"Mesh:{nameof(MeshOptions.Endpoint)}: {error}");
        }

        if (options.AdvertisedEndpoint is not null)
        {
            if (options.Endpoint is null)
            {
                failures.Add($"Mesh:{nameof(MeshOptions.AdvertisedEndpoint)} is set but Mesh:{nameof(MeshOptions.Endpoint)} is not: a node that does not listen cannot be reached.");
            }
            else if (!HostPort.TryParse(options.AdvertisedEndpoint, allowPortZero: false, out string host, out _, out error))
            {
                failures.Add($"Mesh:{nameof(MeshOptions.AdvertisedEndpoint)}: {error}");
            }
            else if (HostPort.IsWildcard(host))
            {
                failures.Add($"Mesh:{nameof(MeshOptions.AdvertisedEndpoint)} is '{options.AdvertisedEndpoint}': other nodes cannot reach a wildcard address; give this node's own address.");
            }
        }

        foreach (string seed in options.Seeds)
        {
            if (!HostPort.TryParse(seed, allowPortZero: false, out _, out _, out error))
            {
                failures.Add($"Mesh:{nameof(MeshOptions.Seeds)}: {error}");
            }
        }

        bool joins = options.Seeds.Count > 0 || options.DnsDiscoveryHost is not null;
        if (joins && options.Endpoint is null)
        {
            failures.Add($"Mesh:{nameof(MeshOptions.Seeds)} or Mesh:DnsDiscovery is set but Mesh:{nameof(MeshOptions.Endpoint)} is not: a cluster member must listen (MeshBuilder.ListenOn).");
        }

        if (options.DnsDiscoveryHost is not null && string.IsNullOrWhiteSpace(options.DnsDiscoveryHost))
        {
            failures.Add("Mesh:DnsDiscovery:Host is empty.");
        }

        if (options.DnsDiscoveryPort is < 1 or > 65535)
        {
            failures.Add($"Mesh:DnsDiscovery:Port must be between 1 and 65535 (was {options.DnsDiscoveryPort}).");
        }

        if (options.NodeName is not null && !HostPort.IsValidNodeName(options.NodeName))
        {
            failures.Add($"Mesh:{nameof(MeshOptions.NodeName)} is '{options.NodeName}': use letters, digits, '-', '_' and '.', at most {HostPort.MaxNodeNameLength} characters.");
        }

        if (!HostPort.IsValidNodeName(options.ClusterName))
        {
            failures.Add($"Mesh:{nameof(MeshOptions.ClusterName)} is '{options.ClusterName}': use letters, digits, '-', '_' and '.', at most {HostPort.MaxNodeNameLength} characters.");
        }

        MeshMembershipOptions m = options.Membership;
        Positive(m.ProbeInterval, "Membership:" + nameof(MeshMembershipOptions.ProbeInterval), failures);
        Positive(m.ProbeTimeout, "Membership:" + nameof(MeshMembershipOptions.ProbeTimeout), failures);
        Positive(m.SuspicionTimeout, "Membership:" + nameof(MeshMembershipOptions.SuspicionTimeout), failures);
        Positive(m.SyncInterval, "Membership:" + nameof(MeshMembershipOptions.SyncInterval), failures);
        Positive(m.JoinRetryInterval, "Membership:" + nameof(MeshMembershipOptions.JoinRetryInterval), failures);
        Positive(m.DnsRefreshInterval, "Membership:" + nameof(MeshMembershipOptions.DnsRefreshInterval), failures);
        if (m.ProbeTimeout >= m.ProbeInterval)
        {
            failures.Add($"Mesh:Membership:{nameof(MeshMembershipOptions.ProbeTimeout)} ({m.ProbeTimeout}) must be shorter than Mesh:Membership:{nameof(MeshMembershipOptions.ProbeInterval)} ({m.ProbeInterval}).");
        }

        if (m.IndirectProbes is < 0 or > 16)
        {
            failures.Add($"Mesh:Membership:{nameof(MeshMembershipOptions.IndirectProbes)} must be between 0 and 16 (was {m.IndirectProbes}).");
        }
    }

    private static void ValidateTls(MeshTlsOptions tls, List<string> failures)
    {
        ExistingFile(tls.CertificatePath, nameof(MeshTlsOptions.CertificatePath), failures);
        ExistingFile(tls.PrivateKeyPath, nameof(MeshTlsOptions.PrivateKeyPath), failures);
        ExistingFile(tls.ClusterCaPath, nameof(MeshTlsOptions.ClusterCaPath), failures);
        if (tls.CertificatePath is null)
        {
            if (tls.PrivateKeyPath is not null || tls.ClusterCaPath is not null)
            {
                failures.Add($"Mesh:Tls:{nameof(MeshTlsOptions.CertificatePath)} is required when Mesh:Tls:{nameof(MeshTlsOptions.PrivateKeyPath)} or Mesh:Tls:{nameof(MeshTlsOptions.ClusterCaPath)} is set.");
            }

            if (string.IsNullOrWhiteSpace(tls.DevelopmentCertificateFolder))
            {
                failures.Add($"Mesh:Tls:{nameof(MeshTlsOptions.DevelopmentCertificateFolder)} must name a folder when Mesh:Tls:{nameof(MeshTlsOptions.CertificatePath)} is not set.");
            }
        }
        else if (tls.ClusterCaPath is null && tls.PinnedThumbprints.Count == 0)
        {
            failures.Add($"Mesh:Tls:{nameof(MeshTlsOptions.CertificatePath)} is set but no peer would be accepted: set Mesh:Tls:{nameof(MeshTlsOptions.ClusterCaPath)} or Mesh:Tls:{nameof(MeshTlsOptions.PinnedThumbprints)}.");
        }

        foreach (string thumbprint in tls.PinnedThumbprints)
        {
            string hex = thumbprint.Replace(":", string.Empty, StringComparison.Ordinal).Trim();
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                failures.Add($"Mesh:Tls:{nameof(MeshTlsOptions.PinnedThumbprints)} contains '{thumbprint}', which is not a SHA-256 thumbprint (64 hex digits).");
            }
        }
    }

    private static void ExistingFile(string? path, string option, List<string> failures)
    {
        if (path is not null && !File.Exists(path))
        {
            failures.Add($"Mesh:Tls:{option} is '{path}', which does not exist.");
        }
    }

    private static void Positive(TimeSpan value, string option, List<string> failures)
    {
        // Timer-based: longer than int.MaxValue milliseconds cannot be armed.
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue - 1)
        {
            failures.Add($"Mesh:{option} must be positive and at most 24 days (was {value}).");
        }
    }
}
