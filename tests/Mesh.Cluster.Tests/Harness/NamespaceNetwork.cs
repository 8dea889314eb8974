using System.Diagnostics;
using System.Globalization;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>
/// Network namespaces joined by a bridge, for tests that need nodes on separate hosts: namespace <c>i</c> (1-based) has
/// the address <c>10.213.47.i</c> of <see cref="Subnet"/>, a private /24 used nowhere else on the machine (the namespaces
/// have no route but to each other), and a veth link to a bridge in a namespace of its own. Taking a namespace's bridge
/// port down cuts it off from all others, while nodes inside it keep reaching each other on its address. Optionally each
/// namespace resolves a service name to every address, as a Kubernetes headless Service does (through
/// <c>/etc/netns/&lt;namespace&gt;/hosts</c>, which <c>ip netns exec</c> mounts over <c>/etc/hosts</c>).
/// </summary>
/// <remarks>Creating one first removes what an earlier run left behind (every namespace and <c>/etc/netns</c> folder
/// starting with <see cref="Prefix"/>); disposing removes its namespaces (their links go with them) and folders.</remarks>
internal sealed class NamespaceNetwork : IDisposable
{
    /// <summary>Every namespace, link and folder these tests create starts with this.</summary>
    public const string Prefix = "meshct";

    /// <summary>The private /24 of the namespaces.</summary>
    public const string Subnet = "10.213.47.0/24";

    private const string BridgeName = "br0";

    /// <summary>A command of <c>ip</c> completes in well under a second; this only guards against a wedged one.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);

    private readonly string _name;
    private readonly Action<string> _log;
    private readonly List<string> _created = [];
    private bool _disposed;

    private NamespaceNetwork(string name, int count, Action<string> log)
    {
        _name = name;
        _log = log;
        Count = count;
    }

    /// <summary>Gets how many namespaces (hosts) the network has.</summary>
    public int Count { get; }

    /// <summary>Gets the <c>ip</c> executable.</summary>
    public static string IpPath { get; } = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists) ?? "ip";

    /// <summary>Gets the namespace of host <paramref name="host"/> (1-based).</summary>
    public string Namespace(int host) => $"{Prefix}-{_name}{host}";

    /// <summary>Gets the address of host <paramref name="host"/> (1-based).</summary>
    public static string Address(int host) => string.Create(CultureInfo.InvariantCulture, $"10.213.47.{host}");

    private string BridgeNamespace => $"{Prefix}-{_name}br";

    private string Port(int host) => $"{Prefix}-{_name}{host}p";

    private string Link(int host) => $"{Prefix}-{_name}{host}";

    /// <summary>Why this machine cannot run namespace tests, or null when it can. Such tests fail with this rather than
    /// being skipped: CI runs as root with iproute2, so a missing capability there is a broken environment.</summary>
    public static string? WhyUnavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux.";
        }

        if (!IsRoot())
        {
            return $"creating network namespaces needs root; these tests run as '{Environment.UserName}'. Run them as root (CI does).";
        }

        return File.Exists(IpPath) ? null : "the 'ip' command (Debian package iproute2) is not installed: apt-get install iproute2.";
    }

    private static bool IsRoot()
    {
        // /proc/self/status has "Uid:\treal\teffective\tsaved\tfs".
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(static l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return line is not null && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0";
    }

    /// <summary>Removes leftovers of an earlier run, then creates <paramref name="count"/> namespaces on a bridge.</summary>
    /// <param name="name">A short name (one or two letters: link names are limited to 15 characters).</param>
    /// <param name="count">How many namespaces, 1 to 9.</param>
    /// <param name="log">Where to say what was done.</param>
    /// <param name="serviceName">A host name every namespace resolves to all addresses, or null.</param>
    public static NamespaceNetwork Create(string name, int count, Action<string> log, string? serviceName = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 9);
        RemoveStale(log);
        var network = new NamespaceNetwork(name, count, log);
        try
        {
            network.AddNamespace(network.BridgeNamespace);
            Ip("-n", network.BridgeNamespace, "link", "add", BridgeName, "type", "bridge");
            Ip("-n", network.BridgeNamespace, "link", "set", BridgeName, "up");
            for (int host = 1; host <= count; host++)
            {
                string ns = network.Namespace(host);
                network.AddNamespace(ns);
                Ip("link", "add", network.Link(host), "netns", ns, "type", "veth", "peer", "name", network.Port(host), "netns", network.BridgeNamespace);
                Ip("-n", network.BridgeNamespace, "link", "set", network.Port(host), "master", BridgeName);
                Ip("-n", network.BridgeNamespace, "link", "set", network.Port(host), "up");
                Ip("-n", ns, "link", "set", "lo", "up");
                Ip("-n", ns, "addr", "add", Address(host) + "/24", "dev", network.Link(host));
                Ip("-n", ns, "link", "set", network.Link(host), "up");
                if (serviceName is not null)
                {
                    string folder = Path.Combine("/etc/netns", ns);
                    Directory.CreateDirectory(folder);
                    File.WriteAllText(Path.Combine(folder, "hosts"), "127.0.0.1 localhost\n" + string.Concat(Enumerable.Range(1, count).Select(h => $"{Address(h)} {serviceName}\n")));
                }
            }

            log($"network: {string.Join(", ", Enumerable.Range(1, count).Select(h => $"{network.Namespace(h)} ({Address(h)})"))} on a bridge in {network.BridgeNamespace}{(serviceName is null ? "" : $"; '{serviceName}' resolves to all of them")}");
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    private void AddNamespace(string ns)
    {
        Ip("netns", "add", ns);
        _created.Add(ns);
    }

    /// <summary>Cuts host <paramref name="host"/> off from all others (its bridge port goes down).</summary>
    public void Disconnect(int host)
    {
        Ip("-n", BridgeNamespace, "link", "set", Port(host), "down");
        _log($"disconnected {Namespace(host)}");
    }

    /// <summary>Connects host <paramref name="host"/> again.</summary>
    public void Reconnect(int host)
    {
        Ip("-n", BridgeNamespace, "link", "set", Port(host), "up");
        _log($"reconnected {Namespace(host)}");
    }

    /// <summary>Deletes the namespaces (their links go with them) and resolver folders. Safe after a failed create.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (string ns in _created)
        {
            Remove(ns, _log);
        }
    }

    private static void RemoveStale(Action<string> log)
    {
        var stale = new HashSet<string>(StringComparer.Ordinal);
        (int code, string output) = Run("netns", "list");
        if (code == 0)
        {
            stale.UnionWith(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => l.Split(' ')[0]));
        }

        if (Directory.Exists("/etc/netns"))
        {
            stale.UnionWith(Directory.GetDirectories("/etc/netns").Select(Path.GetFileName)!);
        }

        foreach (string ns in stale.Where(static n => n.StartsWith(Prefix + "-", StringComparison.Ordinal)))
        {
            log($"removing {ns}, left by an earlier run");
            Remove(ns, log);
        }
    }

    private static void Remove(string ns, Action<string> log)
    {
        (int code, string output) = Run("netns", "delete", ns);
        if (code != 0 && !output.Contains("No such file", StringComparison.Ordinal))
        {
            log($"'ip netns delete {ns}' failed with exit code {code}: {output}");
        }

        string folder = Path.Combine("/etc/netns", ns);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Ip(params string[] arguments)
    {
        (int code, string output) = Run(arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"'ip {string.Join(' ', arguments)}' failed with exit code {code}: {output}");
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
