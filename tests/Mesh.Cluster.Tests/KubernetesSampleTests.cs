using System.Diagnostics;
using System.Text.RegularExpressions;
using Mesh.Cluster.Tests.Harness;

namespace Mesh.Cluster.Tests;

/// <summary>
/// samples/Kubernetes cannot run here (no container runtime), so its configuration runs without Kubernetes: three nodes,
/// each in a network namespace of its own like a pod, get the <c>Mesh__*</c> environment variables of
/// <c>samples/Kubernetes/mesh.yaml</c> as written (the pod name, IP and namespace filled in as Kubernetes would), the
/// certificates its <c>make-certs.sh</c> makes, laid out as its README's Secret, and a resolver that answers the headless
/// Service's name with every pod's address. They must find each other through DNS and trust each other.
/// </summary>
public sealed partial class KubernetesSampleTests(ITestOutputHelper output) : ClusterTest(output)
{
    private const int Pods = 3;
    private const int Ids = 300;
    private const string StatefulSet = "mesh-cluster";
    private const string KubernetesNamespace = "default";

    /// <summary>Where the manifest mounts the Secret; replaced by the folder that stands for it.</summary>
    private const string SecretMount = "/etc/mesh/tls";

    /// <summary>OpenSSL makes three keys and certificates in well under a second.</summary>
    private static readonly TimeSpan CertificateScriptTimeout = TimeSpan.FromSeconds(60);

    private static readonly string[] RequiredVariables =
    [
        "Mesh__NodeName", "Mesh__Endpoint", "Mesh__AdvertisedEndpoint", "Mesh__DnsDiscovery__Host", "Mesh__DnsDiscovery__Port",
        "Mesh__Tls__CertificatePath", "Mesh__Tls__PrivateKeyPath", "Mesh__Tls__ClusterCaPath",
    ];

    [GeneratedRegex(@"-\s+name:\s*(Mesh__\w+)\s*\n\s*value:\s*""?([^""\n]*)""?", RegexOptions.Multiline)]
    private static partial Regex EnvironmentEntry();

    [Fact]
    public async Task Nodes_configured_like_the_Kubernetes_sample_find_each_other_through_dns_and_trust_its_certificates()
    {
        string sample = NodeProcess.Metadata("KubernetesSamplePath");
        var manifest = EnvironmentEntry().Matches(await File.ReadAllTextAsync(Path.Combine(sample, "mesh.yaml")))
            .ToDictionary(static m => m.Groups[1].Value, static m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);
        Assert.All(RequiredVariables, variable => Assert.True(manifest.ContainsKey(variable), $"mesh.yaml sets no {variable}."));
        Cluster.Log($"mesh.yaml sets {string.Join(", ", manifest.Select(static p => $"{p.Key}={p.Value}"))}");

        string secret = await MakeCertificatesAsync(sample);
        string service = Fill(manifest["Mesh__DnsDiscovery__Host"], pod: 0);
        NamespaceNetwork network = CreateNetwork("k", Pods, service);

        var specs = new NodeSpec[Pods];
        for (int pod = 0; pod < Pods; pod++)
        {
            Dictionary<string, string> environment = manifest.ToDictionary(static p => p.Key, p => Fill(p.Value, pod), StringComparer.Ordinal);
            specs[pod] = new NodeSpec($"{StatefulSet}-{pod}", "counter")
            {
                Endpoint = environment["Mesh__AdvertisedEndpoint"],
                NetworkNamespace = network.Namespace(pod + 1),
                Environment = environment,
            };
        }

        NodeProcess[] nodes = await Cluster.StartAsync(specs);
        Assert.Equal(specs.Select(static s => s.Label), nodes.Select(static n => n.Name));
        await Cluster.WaitForViewAsync(nodes, nodes, Bounds.ViewConvergence);
        string?[] owners = await Cluster.WaitForSameOwnersAsync(nodes, "counter", Bounds.ViewConvergence);
        Cluster.Log($"found each other through '{service}' and {secret}: {TestCluster.Summarize(owners)}");
        CallReport calls = await Cluster.CallsAsync(nodes[0], "counter", Ids, "pod");
        Assert.Equal(Ids, calls.Ok);
        Assert.Equal(0, calls.Misrouted);
        Assert.Equal(nodes.Select(static n => n.Name).Order(), calls.Nodes.Keys.Order());
    }

    /// <summary>What Kubernetes substitutes in the manifest's values for pod <paramref name="pod"/>, and the folder that
    /// stands for the mounted Secret.</summary>
    private string Fill(string value, int pod) => value
        .Replace("$(POD_NAME)", $"{StatefulSet}-{pod}", StringComparison.Ordinal)
        .Replace("$(POD_IP)", NamespaceNetwork.Address(pod + 1), StringComparison.Ordinal)
        .Replace("$(POD_NAMESPACE)", KubernetesNamespace, StringComparison.Ordinal)
        .Replace(SecretMount, Path.Combine(Cluster.Folder, "secret"), StringComparison.Ordinal);

    /// <summary>Runs a copy of the sample's make-certs.sh and lays its files out as the README's
    /// <c>kubectl create secret</c> does.</summary>
    /// <returns>A description for the log.</returns>
    private async Task<string> MakeCertificatesAsync(string sample)
    {
        string work = Path.Combine(Cluster.Folder, "make-certs");
        Directory.CreateDirectory(work);
        File.Copy(Path.Combine(sample, "make-certs.sh"), Path.Combine(work, "make-certs.sh"));
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(work, "make-certs.sh"));
        using Process script = Process.Start(info)!;
        Task<string> stdout = script.StandardOutput.ReadToEndAsync();
        Task<string> stderr = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(CertificateScriptTimeout);
        Assert.True(script.ExitCode == 0, $"make-certs.sh failed with exit code {script.ExitCode} (it needs openssl: apt-get install openssl): {await stderr}");

        string secret = Path.Combine(Cluster.Folder, "secret");
        Directory.CreateDirectory(secret);
        File.Copy(Path.Combine(work, "certs", "cluster-ca.pem"), Path.Combine(secret, "ca.crt"));
        File.Copy(Path.Combine(work, "certs", "node.pem"), Path.Combine(secret, "tls.crt"));
        File.Copy(Path.Combine(work, "certs", "node.key"), Path.Combine(secret, "tls.key"));
        return $"the certificates of make-certs.sh ({(await stdout).Trim()})";
    }
}
