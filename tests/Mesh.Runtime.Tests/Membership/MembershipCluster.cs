using System.Collections.Concurrent;
using System.Collections.Frozen;
using Mesh.Membership;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Mesh.Runtime.Tests.Membership;

/// <summary>Membership services on a <see cref="SimulatedNetwork"/>, with fast timings, a record of every view each
/// node published, and waits with deadlines. Disposing stops every node.</summary>
internal sealed class MembershipCluster : IAsyncDisposable
{
    /// <summary>How long any condition may take to come true before a test fails: generous, because the machine may be
    /// busy; the timings below make the expected times a small fraction of it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly List<TestMember> _members = [];
    private readonly ITestOutputHelper? _output;
    private long _nextIncarnation = 1_000;

    public MembershipCluster(ITestOutputHelper? output = null)
    {
        _output = output;
    }

    public SimulatedNetwork Network { get; } = new();

    public IReadOnlyList<TestMember> Members => _members;

    public TestMember this[int index] => _members[index];

    /// <summary>Settings for tests: probes every 100 ms, a suspect has 1 s to refute, state exchanges every second.</summary>
    public MembershipSettings Settings(string name, string endpoint, IEnumerable<string>? seeds = null, string[]? capabilities = null) => new()
    {
        NodeName = name,
        Incarnation = Interlocked.Increment(ref _nextIncarnation),
        AdvertisedEndpoint = endpoint,
        Capabilities = (capabilities ?? ["counter"]).ToFrozenSet(StringComparer.Ordinal),
        ClusterName = "test",
        ShardCount = 64,
        ProbeInterval = TimeSpan.FromMilliseconds(100),
        ProbeTimeout = TimeSpan.FromMilliseconds(60),
        IndirectProbes = 3,
        SuspicionTimeout = TimeSpan.FromSeconds(1),
        SyncInterval = TimeSpan.FromSeconds(1),
        JoinRetryInterval = TimeSpan.FromMilliseconds(100),
        Seeds = [.. seeds ?? []],
    };

    /// <summary>Starts <paramref name="count"/> nodes <c>node-0</c>... on <c>10.0.0.i:7400</c>, all with node 0 as seed,
    /// and waits until every node sees every other up.</summary>
    public static async Task<MembershipCluster> StartAsync(int count, ITestOutputHelper? output = null)
    {
        var cluster = new MembershipCluster(output);
        for (int i = 0; i < count; i++)
        {
            await cluster.AddAsync(cluster.Settings($"node-{i}", Endpoint(i), [Endpoint(0)]));
        }

        await cluster.WaitUntilAsync(() => cluster.Members.All(m => m.UpCount == count), $"all {count} nodes see each other up");
        return cluster;
    }

    public static string Endpoint(int index) => $"10.0.0.{index}:7400";

    public async Task<TestMember> AddAsync(MembershipSettings settings, SeedSource? seeds = null)
    {
        var member = new TestMember(settings);
        var service = new MembershipService(Network.For(settings.AdvertisedEndpoint), settings, seeds ?? new StaticSeedSource(settings.Seeds), member.OnChanged, NullLogger.Instance, TimeProvider.System);
        member.Service = service;
        Network.Listen(settings.AdvertisedEndpoint, service);
        _members.Add(member);
        await service.StartAsync(CancellationToken.None);
        return member;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test with <paramref name="what"/> after
    /// <see cref="Deadline"/>.</summary>
    public Task<TimeSpan> WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(condition, what, Deadline);

    public async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, string what, TimeSpan deadline)
    {
        TimeSpan elapsed = await Poll.UntilAsync(condition, what, deadline, () => string.Join(Environment.NewLine, _members.Select(m => $"{m.Name}: {string.Join(", ", m.Current.Members)}")));
        _output?.WriteLine($"{what}: {elapsed.TotalMilliseconds:F0} ms");
        return elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (TestMember member in _members)
        {
            await member.Service.DisposeAsync();
        }
    }
}

/// <summary>Waits for conditions with a deadline.</summary>
internal static class Poll
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails the test with <paramref name="what"/>
    /// and <paramref name="describe"/>'s account of the state after <paramref name="deadline"/>.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<bool> condition, string what, TimeSpan deadline, Func<string>? describe = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > deadline)
            {
                Assert.Fail($"Not true within {deadline}: {what}.{Environment.NewLine}{describe?.Invoke()}");
            }

            await Task.Delay(10);
        }

        return clock.Elapsed;
    }
}

/// <summary>One node of a <see cref="MembershipCluster"/> and every view it published.</summary>
internal sealed class TestMember(MembershipSettings settings)
{
    private int _inCallback;
    private long _lastVersion;

    public MembershipSettings Settings { get; } = settings;

    public string Name => Settings.NodeName;

    public string Endpoint => Settings.AdvertisedEndpoint;

    public MembershipService Service { get; set; } = null!;

    public MembershipSnapshot Current => Service.Current;

    public ConcurrentQueue<(MembershipSnapshot View, IReadOnlyList<MembershipChangedEventArgs> Changes)> Views { get; } = new();

    /// <summary>Gets whether two views were ever handed over at once, or out of version order.</summary>
    public bool Misordered { get; private set; }

    public int UpCount => Current.Members.Count(m => m.Status == MeshNodeStatus.Up);

    public MeshNode? View(string name) => Current.Members.FirstOrDefault(m => m.Name == name);

    public MeshNodeStatus? StatusOf(string name) => View(name)?.Status;

    public IEnumerable<MembershipChangedEventArgs> ChangesAbout(string name) => Views.SelectMany(v => v.Changes).Where(c => c.Node.Name == name);

    public void OnChanged(MembershipSnapshot view, IReadOnlyList<MembershipChangedEventArgs> changes)
    {
        if (Interlocked.Increment(ref _inCallback) != 1 || view.Version <= _lastVersion)
        {
            Misordered = true;
        }

        _lastVersion = view.Version;

        foreach (MembershipChangedEventArgs change in changes)
        {
            Misordered |= change.Version != view.Version;
        }

        Views.Enqueue((view, changes));
        Thread.SpinWait(100);
        Interlocked.Decrement(ref _inCallback);
    }
}
