using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mesh.Runtime;

/// <summary>Reads <see cref="MeshOptions"/> from the configuration section <c>Mesh</c> without the reflection-based binder,
/// so that Mesh stays trimming and Native AOT safe. Values that do not parse are kept as errors that validation reports.</summary>
internal sealed class MeshOptionsConfiguration(IServiceProvider services) : IConfigureOptions<MeshOptions>
{
    public void Configure(MeshOptions options)
    {
        if (services.GetService<IConfiguration>() is not { } configuration)
        {
            return;
        }

        IConfigurationSection section = configuration.GetSection(MeshOptions.SectionName);
        foreach (IConfigurationSection capability in section.GetSection(nameof(MeshOptions.Capabilities)).GetChildren())
        {
            if (capability.Value is { } value)
            {
                options.Capabilities.Add(value);
            }
        }

        ReadTimeSpan(section, nameof(MeshOptions.DefaultCallTimeout), options, static (o, v) => o.DefaultCallTimeout = v);
        ReadTimeSpan(section, nameof(MeshOptions.IdleTimeout), options, static (o, v) => o.IdleTimeout = v);
        ReadTimeSpan(section, nameof(MeshOptions.ShutdownTimeout), options, static (o, v) => o.ShutdownTimeout = v);
        ReadInt(section, nameof(MeshOptions.MailboxCapacity), options, static (o, v) => o.MailboxCapacity = v);
        ReadInt(section, nameof(MeshOptions.ShardCount), options, static (o, v) => o.ShardCount = v);
        ReadInt(section, nameof(MeshOptions.MaxFrameSize), options, static (o, v) => o.MaxFrameSize = v);
        ReadTimeSpan(section, nameof(MeshOptions.ReceiveSpinTime), options, static (o, v) => o.ReceiveSpinTime = v);
        if (section[nameof(MeshOptions.Transport)] is { } transport)
        {
            if (Enum.TryParse(transport, ignoreCase: true, out MeshTransport parsed) && Enum.IsDefined(parsed))
            {
                options.Transport = parsed;
            }
            else
            {
                options.ConfigurationErrors.Add($"Mesh:{nameof(MeshOptions.Transport)} is '{transport}': use Quic or Tcp.");
            }
        }

        options.Endpoint = section[nameof(MeshOptions.Endpoint)] ?? options.Endpoint;
        options.AdvertisedEndpoint = section[nameof(MeshOptions.AdvertisedEndpoint)] ?? options.AdvertisedEndpoint;
        options.NodeName = section[nameof(MeshOptions.NodeName)] ?? options.NodeName;
        options.ClusterName = section[nameof(MeshOptions.ClusterName)] ?? options.ClusterName;
        foreach (IConfigurationSection seed in section.GetSection(nameof(MeshOptions.Seeds)).GetChildren())
        {
            if (seed.Value is { } value)
            {
                options.Seeds.Add(value);
            }
        }

        IConfigurationSection dns = section.GetSection("DnsDiscovery");
        options.DnsDiscoveryHost = dns["Host"] ?? options.DnsDiscoveryHost;
        ReadInt(dns, "Port", "Mesh:DnsDiscovery:Port", options, static (o, v) => o.DnsDiscoveryPort = v);

        IConfigurationSection membership = section.GetSection(nameof(MeshOptions.Membership));
        MeshMembershipOptions m = options.Membership;
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.ProbeInterval), "Mesh:Membership:", options, (_, v) => m.ProbeInterval = v);
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.ProbeTimeout), "Mesh:Membership:", options, (_, v) => m.ProbeTimeout = v);
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.SuspicionTimeout), "Mesh:Membership:", options, (_, v) => m.SuspicionTimeout = v);
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.SyncInterval), "Mesh:Membership:", options, (_, v) => m.SyncInterval = v);
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.JoinRetryInterval), "Mesh:Membership:", options, (_, v) => m.JoinRetryInterval = v);
        ReadTimeSpan(membership, nameof(MeshMembershipOptions.DnsRefreshInterval), "Mesh:Membership:", options, (_, v) => m.DnsRefreshInterval = v);
        ReadInt(membership, nameof(MeshMembershipOptions.IndirectProbes), "Mesh:Membership:IndirectProbes", options, (_, v) => m.IndirectProbes = v);

        IConfigurationSection tls = section.GetSection(nameof(MeshOptions.Tls));
        MeshTlsOptions t = options.Tls;
        t.CertificatePath = tls[nameof(MeshTlsOptions.CertificatePath)] ?? t.CertificatePath;
        t.PrivateKeyPath = tls[nameof(MeshTlsOptions.PrivateKeyPath)] ?? t.PrivateKeyPath;
        t.CertificatePassword = tls[nameof(MeshTlsOptions.CertificatePassword)] ?? t.CertificatePassword;
        t.ClusterCaPath = tls[nameof(MeshTlsOptions.ClusterCaPath)] ?? t.ClusterCaPath;
        t.DevelopmentCertificateFolder = tls[nameof(MeshTlsOptions.DevelopmentCertificateFolder)] ?? t.DevelopmentCertificateFolder;
        foreach (IConfigurationSection thumbprint in tls.GetSection(nameof(MeshTlsOptions.PinnedThumbprints)).GetChildren())
        {
            if (thumbprint.Value is { } value)
            {
                t.PinnedThumbprints.Add(value);
            }
        }
    }

    private static void ReadInt(IConfigurationSection section, string key, MeshOptions options, Action<MeshOptions, int> set) =>
        ReadInt(section, key, "Mesh:" + key, options, set);

    private static void ReadTimeSpan(IConfigurationSection section, string key, MeshOptions options, Action<MeshOptions, TimeSpan> set) =>
        ReadTimeSpan(section, key, "Mesh:", options, set);

    private static void ReadInt(IConfigurationSection section, string key, string displayKey, MeshOptions options, Action<MeshOptions, int> set)
    {
        if (section[key] is not { } text)
        {
            return;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
        {
            set(options, value);
        }
        else
        {
            options.ConfigurationErrors.Add($"{displayKey} is '{text}', which is not a whole number.");
        }
    }

    private static void ReadTimeSpan(IConfigurationSection section, string key, string prefix, MeshOptions options, Action<MeshOptions, TimeSpan> set)
    {
        if (section[key] is not { } text)
        {
            return;
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out TimeSpan value))
        {
            set(options, value);
        }
        else
        {
            options.ConfigurationErrors.Add($"{prefix}{key} is '{text}', which is not a time span such as 00:00:30.");
        }
    }
}
