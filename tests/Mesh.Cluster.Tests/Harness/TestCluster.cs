using System.Diagnostics;
using System.Globalization;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>What a node of a <see cref="TestCluster"/> serves and where.</summary>
/// <param name="Label">The node's name, also passed as <c>Mesh:NodeName</c>.</param>
/// <param name="Capabilities">Its capabilities.</param>
internal sealed record NodeSpec(string Label, params string[] Capabilities)
{
    /// <summary>Gets the address to listen on; a free loopback port when null.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Gets the seeds; the cluster's first node when null.</summary>
    public IReadOnlyList<string>? Seeds { get; init; }

    /// <summary>Gets the network namespace to run in, or null.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>Gets settings added to (or replacing) the cluster's defaults, such as another
    /// <c>Mesh:Tls:DevelopmentCertificateFolder</c>.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Gets environment variables that configure the node (<c>Mesh__Endpoint</c>, ...), as a container's
    /// would. When set, the name, endpoint, seeds and certificates are left to them: the command line, which would win
    /// over them, carries only capabilities, timings and <see cref="Settings"/>.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}

/// <summary>
/// A cluster of TestNode processes for one test: a temporary folder (the nodes' working directory and their shared
/// development certificates, so they trust each other and nothing else), nodes started on free loopback ports, waits
/// that poll a condition until a deadline and fail with what was last seen, and a <see cref="DisposeAsync"/> that stops
/// every process it started, whatever happened.
/// </summary>
internal sealed class TestCluster : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>Settings every node gets (a spec can replace them). Short call timeout and suspicion so that failures are
    /// reported in seconds; see <see cref="Bounds"/> for the waits derived from them.</summary>
    private static readonly Dictionary<string, string> s_defaults = new(StringComparer.Ordinal)
    {
        ["Mesh:DefaultCallTimeout"] = "00:00:05",
        ["Mesh:ShutdownTimeout"] = "00:00:05",
        ["Mesh:Membership:ProbeInterval"] = "00:00:01",
        ["Mesh:Membership:ProbeTimeout"] = "00:00:00.500",
        ["Mesh:Membership:SuspicionTimeout"] = "00:00:03",
        ["Mesh:Membership:JoinRetryInterval"] = "00:00:01",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private readonly ITestOutputHelper _output;
    private readonly List<NodeProcess> _processes = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string? _firstEndpoint;

    public TestCluster(ITestOutputHelper output)
    {
        _output = output;
        Folder = Path.Combine(Path.GetTempPath(), "mesh-cluster-tests", Guid.NewGuid().ToString("N")[..12]);
        CertificateFolder = Path.Combine(Folder, "certs");
    }

    /// <summary>Gets the cluster's temporary folder.</summary>
    public string Folder { get; }

    /// <summary>Gets the development certificate folder every node shares unless its spec says otherwise.</summary>
    public string CertificateFolder { get; }

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Folder);
        return Task.CompletedTask;
    }

    /// <summary>Writes a line to the test output, with the time since the cluster was created.</summary>
    public void Log(string message) => _output.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:0.00} s] {message}");

    /// <summary>Starts nodes in parallel and waits until each is READY.</summary>
    public async Task<NodeProcess[]> StartAsync(params NodeSpec[] specs)
    {
        foreach (NodeSpec spec in specs)
        {
            _firstEndpoint ??= spec.Endpoint ?? Reserve(spec);
        }

        return await Task.WhenAll(specs.Select(StartOneAsync)).ConfigureAwait(false);
    }

    private readonly Dictionary<NodeSpec, string> _reserved = new(ReferenceEqualityComparer.Instance);

    private string Reserve(NodeSpec spec)
    {
        lock (_reserved)
        {
            if (!_reserved.TryGetValue(spec, out string? endpoint))
            {
                endpoint = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{FreePorts.Next()}");
                _reserved[spec] = endpoint;
            }

            return endpoint;
        }
    }

    private async Task<NodeProcess> StartOneAsync(NodeSpec spec)
    {
        string endpoint = spec.Endpoint ?? Reserve(spec);
        var settings = new Dictionary<string, string>(s_defaults, StringComparer.Ordinal);
        if (spec.Environment is null)
        {
            settings["Mesh:NodeName"] = spec.Label;
            settings["Mesh:Endpoint"] = endpoint;
            settings["Mesh:Tls:DevelopmentCertificateFolder"] = CertificateFolder;
            IReadOnlyList<string> seeds = spec.Seeds ?? [_firstEndpoint!];
            for (int i = 0; i < seeds.Count; i++)
            {
                settings[$"Mesh:Seeds:{i}"] = seeds[i];
            }
        }

        for (int i = 0; i < spec.Capabilities.Length; i++)
        {
            settings[$"Mesh:Capabilities:{i}"] = spec.Capabilities[i];
        }

        foreach (KeyValuePair<string, string> setting in spec.Settings)
        {
            settings[setting.Key] = setting.Value;
        }

        long started = Stopwatch.GetTimestamp();
        NodeProcess node = await NodeProcess.StartAsync(spec.Label, endpoint, settings, spec.Environment, Folder, spec.NetworkNamespace).ConfigureAwait(false);
        lock (_processes)
        {
            _processes.Add(node);
        }

        Log($"{spec.Label} READY as '{node.Name}' on {endpoint}{(spec.NetworkNamespace is null ? "" : " in " + spec.NetworkNamespace)} (pid {node.Id}, capabilities {string.Join(',', spec.Capabilities)}) after {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
        return node;
    }

    /// <summary>Polls <paramref name="probe"/> until it reports done or <paramref name="timeout"/> passes.</summary>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="timeout">The deadline.</param>
    /// <param name="probe">Returns whether the condition holds and a description of what it saw.</param>
    /// <returns>How long it took.</returns>
    /// <exception cref="Xunit.Sdk.XunitException">The deadline passed; the message has the last description.</exception>
    public async Task<TimeSpan> WaitUntilAsync(string what, TimeSpan timeout, Func<Task<(bool Done, string State)>> probe)
    {
        long started = Stopwatch.GetTimestamp();
        string state = "(not probed)";
        while (true)
        {
            (bool done, state) = await probe().ConfigureAwait(false);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(started);
            if (done)
            {
                Log($"{what}: after {elapsed.TotalSeconds:0.00} s");
                return elapsed;
            }

            if (elapsed > timeout)
            {
                Assert.Fail($"Not within {timeout.TotalSeconds:0} s: {what}. Last seen: {state}");
            }

            await Task.Delay(Bounds.Poll).ConfigureAwait(false);
        }
    }

    /// <summary>Gets every node's members view.</summary>
    public async Task<Dictionary<string, List<Member>>> ViewsAsync(IEnumerable<NodeProcess> nodes)
    {
        NodeProcess[] list = nodes.ToArray();
        string[] answers = await Task.WhenAll(list.Select(static n => n.SendExpectingAsync("members", "MEMBERS", Bounds.Command))).ConfigureAwait(false);
        var views = new Dictionary<string, List<Member>>(StringComparer.Ordinal);
        for (int i = 0; i < list.Length; i++)
        {
            views[list[i].Label] = Replies.Members(answers[i]);
        }

        return views;
    }

    /// <summary>Describes views for a message: <c>node1 sees [node1:Up node2:Suspect]</c>.</summary>
    public static string Describe(Dictionary<string, List<Member>> views) =>
        string.Join("; ", views.Select(static v => $"{v.Key} sees [{string.Join(' ', v.Value)}]"));

    /// <summary>Waits until each of <paramref name="nodes"/> lists exactly <paramref name="up"/> as Up, suspects no one
    /// (a suspect still serves its shards, so a view with one is not settled; others may be listed as Down or Left), and
    /// every node lists the same capabilities for them.</summary>
    /// <returns>How long it took.</returns>
    public Task<TimeSpan> WaitForViewAsync(IEnumerable<NodeProcess> nodes, IEnumerable<NodeProcess> up, TimeSpan timeout, string? what = null)
    {
        NodeProcess[] observers = nodes.ToArray();
        string[] expected = up.Select(static n => n.Name).Order(StringComparer.Ordinal).ToArray();
        return WaitUntilAsync(
            what ?? $"{string.Join(", ", observers.Select(static n => n.Label))} all see exactly {string.Join(", ", expected)} Up and suspect no one",
            timeout,
            async () =>
            {
                Dictionary<string, List<Member>> views = await ViewsAsync(observers).ConfigureAwait(false);
                bool agree = views.Values.All(v => v.Where(static m => m.IsUp).Select(static m => m.Name).Order(StringComparer.Ordinal).SequenceEqual(expected)
                        && !v.Exists(static m => m.Status == "Suspect"))
                    && views.Values.Select(static v => string.Join(' ', v.Where(static m => m.IsUp).Select(static m => m.Name + "=" + string.Join(',', m.Capabilities)))).Distinct().Count() == 1;
                return (agree, Describe(views));
            });
    }

    /// <summary>Waits until every node of <paramref name="nodes"/> computes the same owner for every shard of
    /// <paramref name="capability"/>, and returns that map.</summary>
    public async Task<string?[]> WaitForSameOwnersAsync(IEnumerable<NodeProcess> nodes, string capability, TimeSpan timeout)
    {
        NodeProcess[] list = nodes.ToArray();
        string?[] owners = [];
        await WaitUntilAsync($"{string.Join(", ", list.Select(static n => n.Label))} agree on every shard owner of '{capability}'", timeout, async () =>
        {
            string[] answers = await Task.WhenAll(list.Select(n => n.SendExpectingAsync("owners " + capability, "OWNERS", Bounds.Command))).ConfigureAwait(false);
            string?[][] maps = answers.Select(Replies.Owners).ToArray();
            owners = maps[0];
            bool same = maps.All(m => m.SequenceEqual(maps[0]));
            string state = string.Join("; ", list.Select((n, i) => $"{n.Label}: {Summarize(maps[i])}"));
            return (same, state);
        }).ConfigureAwait(false);
        return owners;
    }

    /// <summary>Shards per owner: <c>node1=1365 node2=1366 none=0</c>.</summary>
    public static string Summarize(string?[] owners) =>
        string.Join(' ', owners.GroupBy(static o => o ?? "(none)").OrderBy(static g => g.Key, StringComparer.Ordinal).Select(static g => $"{g.Key}={g.Count()}"));

    /// <summary>Gets the ids of <paramref name="capability"/> that are active on more than one of <paramref name="nodes"/>,
    /// with where.</summary>
    public static async Task<Dictionary<string, List<string>>> DuplicatesAsync(IEnumerable<NodeProcess> nodes, string capability)
    {
        var where = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (NodeProcess node in nodes)
        {
            foreach (string id in Replies.Active(await node.SendExpectingAsync("active " + capability, "ACTIVE", Bounds.Command).ConfigureAwait(false)))
            {
                if (!where.TryGetValue(id, out List<string>? list))
                {
                    where[id] = list = [];
                }

                list.Add(node.Label);
            }
        }

        return where.Where(static p => p.Value.Count > 1).ToDictionary(static p => p.Key, static p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>Waits until no id of <paramref name="capability"/> is active on two of <paramref name="nodes"/>.</summary>
    public Task<TimeSpan> WaitForNoDuplicatesAsync(IEnumerable<NodeProcess> nodes, string capability, TimeSpan timeout)
    {
        NodeProcess[] list = nodes.ToArray();
        return WaitUntilAsync($"no '{capability}' id is active on two nodes", timeout, async () =>
        {
            Dictionary<string, List<string>> duplicates = await DuplicatesAsync(list, capability).ConfigureAwait(false);
            return (duplicates.Count == 0, $"{duplicates.Count} id(s) active twice, e.g. {string.Join(", ", duplicates.Take(5).Select(static d => $"{d.Key} on {string.Join('+', d.Value)}"))}");
        });
    }

    /// <summary>Runs <c>calls</c> on <paramref name="caller"/> and logs the answer.</summary>
    public async Task<CallReport> CallsAsync(NodeProcess caller, string capability, int count, string prefix, int concurrency = 16, string? onlyOwnedBy = null)
    {
        string command = $"calls {capability} {count} {concurrency} {prefix}{(onlyOwnedBy is null ? "" : " " + onlyOwnedBy)}";
        var report = new CallReport(await caller.SendExpectingAsync(command, "CALLS", Bounds.BulkCommand).ConfigureAwait(false));
        Log($"{caller.Label}> {command}: {report.Line}");
        if (report.Errors > 0)
        {
            LogErrorTails();
        }

        return report;
    }

    /// <summary>Logs the last lines every running node wrote to standard error: where a failed call's cause shows.</summary>
    public void LogErrorTails()
    {
        NodeProcess[] all;
        lock (_processes)
        {
            all = [.. _processes];
        }

        foreach (NodeProcess node in all.Where(static n => n.ExitCode is null))
        {
            Log($"{node.Label}'s standard error, last lines:{Environment.NewLine}{node.ErrorTail}");
        }
    }

    /// <summary>Stops every node (closing stdin, then killing what does not exit) and deletes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        NodeProcess[] all;
        lock (_processes)
        {
            all = [.. _processes];
            _processes.Clear();
        }

        await Task.WhenAll(all.Select(static n => n.DisposeAsync().AsTask())).ConfigureAwait(false);
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A folder left in the temporary directory is harmless; a failing cleanup must not hide the test's result.
        }
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();
}
