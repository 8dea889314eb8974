using System.Diagnostics;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>
/// Two network namespaces joined by one veth pair, for partition tests: side A holds <see cref="AddressA"/>, side B
/// <see cref="AddressB"/>, both in <see cref="Subnet"/>, a private /24 used nowhere else on the machine (the namespaces have
/// no route anywhere but to each other). Taking the veth link down cuts the two sides apart; nodes within one side keep
/// reaching each other over the namespace's own address. Creating it removes namespaces left behind by an earlier run
/// (same <see cref="Prefix"/>); disposing removes these, which also removes the veth pair.
/// </summary>
internal sealed class NetworkNamespaces : IDisposable
{
    /// <summary>Every namespace and interface these tests create starts with this.</summary>
    public const string Prefix = "meshct";

    /// <summary>The private /24 the two sides share.</summary>
    public const string Subnet = "10.213.47.0/24";

    /// <summary>Side A's address.</summary>
    public const string AddressA = "10.213.47.1";

    /// <summary>Side B's address.</summary>
    public const string AddressB = "10.213.47.2";

    private const string LinkA = Prefix + "-va";
    private const string LinkB = Prefix + "-vb";

    /// <summary>A command of <c>ip</c> completes in well under a second; this only guards against a wedged one.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private readonly Action<string> _log;
    private bool _disposed;

    private NetworkNamespaces(Action<string> log)
    {
        _log = log;
    }

    /// <summary>Gets side A's namespace.</summary>
    public string SideA { get; } = Prefix + "-a";

    /// <summary>Gets side B's namespace.</summary>
    public string SideB { get; } = Prefix + "-b";

    /// <summary>Gets the <c>ip</c> executable.</summary>
    public static string IpPath { get; } = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists) ?? "ip";

    /// <summary>Why this machine cannot run the partition test, or null when it can. The test fails with this rather than
    /// being skipped: CI runs as root with iproute2, so a missing capability there is a broken environment.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux.";
        }

        if (Environment.UserName != "root" && !IsRootUid())
        {
            return $"creating network namespaces needs root; these tests run as '{Environment.UserName}'. Run them as root (CI does) or with CAP_NET_ADMIN and CAP_SYS_ADMIN.";
        }

        if (!File.Exists(IpPath))
        {
            return "the 'ip' command (Debian package iproute2) is not installed: apt-get install iproute2.";
        }

        return null;
    }

    private static bool IsRootUid()
    {
        // /proc/self/status has "Uid: real effective saved fs".
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(static l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return line is not null && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";
    }

    /// <summary>Removes stale namespaces of an earlier run, then creates both sides, joined.</summary>
    public static NetworkNamespaces Create(Action<string> log)
    {
        var namespaces = new NetworkNamespaces(log);
        RemoveStale(log);
        try
        {
            namespaces.Ip("netns", "add", namespaces.SideA);
            namespaces.Ip("netns", "add", namespaces.SideB);
            namespaces.Ip("link", "add", LinkA, "netns", namespaces.SideA, "type", "veth", "peer", "name", LinkB, "netns", namespaces.SideB);
            namespaces.Configure(namespaces.SideA, LinkA, AddressA);
            namespaces.Configure(namespaces.SideB, LinkB, AddressB);
            log($"network namespaces {namespaces.SideA} ({AddressA}) and {namespaces.SideB} ({AddressB}) joined by {LinkA}/{LinkB}");
            return namespaces;
        }
        catch
        {
            namespaces.Dispose();
            throw;
        }
    }

    private void Configure(string ns, string link, string address)
    {
        Ip("-n", ns, "link", "set", "lo", "up");
        Ip("-n", ns, "addr", "add", address + "/24", "dev", link);
        Ip("-n", ns, "link", "set", link, "up");
    }

    /// <summary>Cuts the two sides apart: side A's end of the link goes down, so nothing crosses in either direction.</summary>
    public void Partition()
    {
        Ip("-n", SideA, "link", "set", LinkA, "down");
        _log($"partition: {LinkA} down");
    }

    /// <summary>Joins the two sides again.</summary>
    public void Heal()
    {
        Ip("-n", SideA, "link", "set", LinkA, "up");
        _log($"healed: {LinkA} up");
    }

    /// <summary>Deletes both namespaces (the veth pair goes with them). Safe to call twice, and after a failed create.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (string ns in new[] { SideA, SideB })
        {
            TryIp(_log, "netns", "delete", ns);
        }
    }

    private static void RemoveStale(Action<string> log)
    {
        (int code, string output) = Run("netns", "list");
        if (code != 0)
        {
            return;
        }

        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(' ')[0];
            if (name.StartsWith(Prefix + "-", StringComparison.Ordinal))
            {
                log($"removing stale network namespace {name}");
                TryIp(log, "netns", "delete", name);
            }
        }
    }

    private void Ip(params string[] arguments)
    {
        (int code, string output) = Run(arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"'ip {string.Join(' ', arguments)}' failed with exit code {code}: {output}");
        }
    }

    private static void TryIp(Action<string> log, params string[] arguments)
    {
        (int code, string output) = Run(arguments);
        if (code != 0)
        {
            log($"'ip {string.Join(' ', arguments)}' failed with exit code {code}: {output}");
        }
    }

    private static (int Code, string Output) Run(params string[] arguments)
    {
        var info = new ProcessStartInfo(IpPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start 'ip'.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill();
            process.WaitForExit();
            return (-1, $"'ip' did not finish within {CommandTimeout.TotalSeconds:0} s");
        }

        return (process.ExitCode, (output.Result + error.Result).Trim());
    }
}
