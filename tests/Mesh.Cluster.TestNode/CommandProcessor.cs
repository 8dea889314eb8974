using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Cluster.TestNode;

/// <summary>
/// The line protocol the cluster tests drive a node with: one command per line on standard input, exactly one answer
/// line per command on standard output, in order; the first word of an answer names it.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>ping</c></term><description><c>PONG name</c></description></item>
/// <item><term><c>call cap id</c></term><description><c>OK node value ms</c> or <c>ERROR ExceptionType message</c></description></item>
/// <item><term><c>calls cap count concurrency prefix [owners]</c></term><description>ids <c>prefix-0</c> ..
/// <c>prefix-(count-1)</c> once each, or only those whose owner in this node's view is one of the comma-separated
/// <c>owners</c>: <c>CALLS ok= errors= hangs= misrouted= skipped= min= max= ms= nodes=a:n,b:m errors_by_type=T:n first_error=</c>
/// (<c>misrouted</c>: answered by another node than the owner in this node's view; <c>first_error</c>, always last: the
/// type and message of the first error, <c>-</c> when there was none)</description></item>
/// <item><term><c>run cap prefix ids milliseconds concurrency</c></term><description>calls those ids round-robin for that
/// long: <c>RUN ok= errors= hangs= max_ms= first_error_ms= last_error_ms= nodes= errors_by_type= first_error=</c> (times
/// from the start of the run; -1 when there was no error)</description></item>
/// <item><term><c>members</c></term><description><c>MEMBERS name/status/endpoint/cap,cap ...</c> (this view, sorted by name)</description></item>
/// <item><term><c>owners cap</c></term><description><c>OWNERS name,name,... digest</c>: one character per shard, the
/// index of its owner in the name list as <c>a</c>, <c>b</c>, ..., or <c>-</c> when no node serves it</description></item>
/// <item><term><c>active cap</c></term><description><c>ACTIVE count id,id,...</c> (<c>-</c> when none): ids active in this process</description></item>
/// <item><term><c>register cap ...</c></term><description><c>REGISTERED cap,cap</c>: this node's capabilities afterwards</description></item>
/// <item><term><c>stats</c></term><description><c>STATS active= activations= deactivations= rebalanced= calls= members= up=</c></description></item>
/// <item><term><c>leave</c></term><description>stops the host gracefully, answers <c>LEFT ms</c> and exits with 0</description></item>
/// </list>
/// A node whose standard input closes stops the same way, so a test process that dies takes its nodes with it.
/// </remarks>
internal sealed class CommandProcessor
{
    /// <summary>A call is reported as a hang when it has not completed this long after its own timeout
    /// (<c>Mesh:DefaultCallTimeout</c>) elapsed: the runtime promises a typed error by then.</summary>
    private static readonly TimeSpan HangGrace = TimeSpan.FromSeconds(5);

    /// <summary>How long a graceful stop (<c>leave</c>, stdin closed) may take before the process exits anyway.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Upper bound on the ids tried when looking for one id per shard: far more than the ~9 x shard count a
    /// uniform hash needs, so that only a broken hash exhausts it.</summary>
    private const int ShardProbeLimitPerShard = 64;

    private readonly IHost _host;
    private readonly IMesh _mesh;
    private readonly TextWriter _output;
    private readonly ILogger _logger;
    private readonly TimeSpan _hangBound;
    private readonly int _shardCount;
    private string[]? _shardRepresentatives;

    public CommandProcessor(IHost host, TextWriter output, ILogger logger)
    {
        _host = host;
        _mesh = host.Services.GetRequiredService<IMesh>();
        _output = output;
        _logger = logger;
        MeshOptions options = host.Services.GetRequiredService<IOptions<MeshOptions>>().Value;
        _hangBound = options.DefaultCallTimeout + HangGrace;
        _shardCount = options.ShardCount;
    }

    public async Task<int> RunAsync(TextReader input)
    {
        MeshNode self = _mesh.Self;
        Write($"READY {self.Name} {self.Endpoint ?? "-"}");
        while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words.Length == 0)
            {
                continue;
            }

            if (words[0] == "leave")
            {
                long elapsed = await StopAsync().ConfigureAwait(false);
                Write($"LEFT {elapsed}");
                return 0;
            }

            string answer;
            try
            {
                answer = await ExecuteAsync(words).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException or InvalidOperationException or MeshException)
            {
                TestNodeLog.CommandFailed(_logger, line, ex);
                answer = $"ERROR {ex.GetType().Name} {OneLine(ex.Message)}";
            }

            Write(answer);
        }

        TestNodeLog.InputClosed(_logger);
        await StopAsync().ConfigureAwait(false);
        return 0;
    }

    private async Task<long> StopAsync()
    {
        long started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await _host.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            TestNodeLog.StopTimedOut(_logger, StopTimeout);
        }

        return (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    private void Write(string line)
    {
        _output.WriteLine(line);
        _output.Flush();
    }

    private Task<string> ExecuteAsync(string[] words) => words[0] switch
    {
        "ping" => Task.FromResult($"PONG {_mesh.Self.Name}"),
        "call" when words.Length == 3 => CallOneAsync(words[1], words[2]),
        "calls" when words.Length is 5 or 6 => CallManyAsync(words[1], Int(words[2]), Int(words[3]), words[4], words.Length == 6 ? words[5].Split(',') : null),
        "run" when words.Length == 6 => RunLoadAsync(words[1], words[2], Int(words[3]), Int(words[4]), Int(words[5])),
        "members" => Task.FromResult(Members()),
        "owners" when words.Length == 2 => Task.FromResult(Owners(words[1])),
        "active" when words.Length == 2 => Task.FromResult(Active(words[1])),
        "register" when words.Length >= 2 => RegisterAsync(words[1..]),
        "stats" => Task.FromResult(Stats()),
        _ => Task.FromResult($"ERROR UnknownCommand '{string.Join(' ', words)}'"),
    };

    private static int Int(string text) => int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private ValueTask<Answer> Invoke(string capability, string id) => capability switch
    {
        "counter" => _mesh.GetActor<ICounterActor>(id).IncrementAsync(),
        "game" => _mesh.GetActor<IPlayerActor>(id).MoveAsync(1),
        "chat" => _mesh.GetActor<IRoomActor>(id).PostAsync("hello"),
        _ => throw new ArgumentException($"No test actor has the capability '{capability}' (counter, game, chat).", nameof(capability)),
    };

    /// <summary>One call with the hang guard: a typed error becomes an <see cref="Outcome"/>, never an exception.</summary>
    private async Task<Outcome> GuardedCallAsync(string capability, string id)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            Answer answer = await Invoke(capability, id).AsTask().WaitAsync(_hangBound).ConfigureAwait(false);
            return new Outcome(answer, null, Stopwatch.GetElapsedTime(started));
        }
        catch (TimeoutException)
        {
            return new Outcome(null, "Hang", Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            return new Outcome(null, ex.GetType().Name, Stopwatch.GetElapsedTime(started), ex.Message);
        }
    }

    private async Task<string> CallOneAsync(string capability, string id)
    {
        Outcome outcome = await GuardedCallAsync(capability, id).ConfigureAwait(false);
        return outcome.Answer is { } answer
            ? $"OK {answer.Node} {answer.Value} {(long)outcome.Elapsed.TotalMilliseconds}"
            : $"ERROR {outcome.Error} {OneLine(outcome.Message ?? "")}";
    }

    private async Task<string> CallManyAsync(string capability, int count, int concurrency, string prefix, string[]? owners)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var tally = new Tally();
        long started = Stopwatch.GetTimestamp();
        int next = -1;
        int skipped = 0;
        var workers = new Task[Math.Min(concurrency, count)];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < count)
                {
                    string id = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
                    if (owners is not null && Array.IndexOf(owners, _mesh.OwnerOf(capability, id)?.Name) < 0)
                    {
                        Interlocked.Increment(ref skipped);
                        continue;
                    }

                    Outcome outcome = await GuardedCallAsync(capability, id).ConfigureAwait(false);
                    string? expected = _mesh.OwnerOf(capability, id)?.Name;
                    tally.Add(outcome, misrouted: outcome.Answer is { } a && !string.Equals(a.Node, expected, StringComparison.Ordinal), sinceStart: default);
                }
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        long elapsed = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return $"CALLS ok={tally.Ok} errors={tally.Errors} hangs={tally.Hangs} misrouted={tally.Misrouted} skipped={skipped} min={tally.MinValue} max={tally.MaxValue} ms={elapsed} nodes={tally.Nodes()} errors_by_type={tally.ErrorTypes()} first_error={tally.FirstError ?? "-"}";
    }

    private async Task<string> RunLoadAsync(string capability, string prefix, int ids, int milliseconds, int concurrency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ids, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var tally = new Tally();
        long started = Stopwatch.GetTimestamp();
        var duration = TimeSpan.FromMilliseconds(milliseconds);
        int next = -1;
        var workers = new Task[concurrency];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                while (Stopwatch.GetElapsedTime(started) < duration)
                {
                    int i = (int)((uint)Interlocked.Increment(ref next) % (uint)ids);
                    string id = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
                    Outcome outcome = await GuardedCallAsync(capability, id).ConfigureAwait(false);
                    tally.Add(outcome, misrouted: false, sinceStart: Stopwatch.GetElapsedTime(started));
                }
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return $"RUN ok={tally.Ok} errors={tally.Errors} hangs={tally.Hangs} max_ms={(long)tally.MaxElapsed.TotalMilliseconds} first_error_ms={tally.FirstErrorMs} last_error_ms={tally.LastErrorMs} nodes={tally.Nodes()} errors_by_type={tally.ErrorTypes()} first_error={tally.FirstError ?? "-"}";
    }

    private string Members()
    {
        var members = new List<MeshNode>(_mesh.Members);
        members.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var text = new StringBuilder("MEMBERS");
        foreach (MeshNode member in members)
        {
            var capabilities = new List<string>(member.Capabilities);
            capabilities.Sort(StringComparer.Ordinal);
            text.Append(' ').Append(member.Name).Append('/').Append(member.Status).Append('/').Append(member.Endpoint ?? "-")
                .Append('/').Append(capabilities.Count == 0 ? "-" : string.Join(',', capabilities));
        }

        return text.ToString();
    }

    private string Owners(string capability)
    {
        string[] representatives = _shardRepresentatives ??= FindShardRepresentatives();
        var names = new List<string>();
        var digest = new StringBuilder(_shardCount);
        foreach (string id in representatives)
        {
            MeshNode? owner = _mesh.OwnerOf(capability, id);
            if (owner is null)
            {
                digest.Append('-');
                continue;
            }

            int index = names.IndexOf(owner.Name);
            if (index < 0)
            {
                index = names.Count;
                names.Add(owner.Name);
            }

            digest.Append((char)('a' + index));
        }

        return $"OWNERS {(names.Count == 0 ? "-" : string.Join(',', names))} {digest}";
    }

    /// <summary>The public API answers owners per id, not per shard: find one id for every shard.</summary>
    private string[] FindShardRepresentatives()
    {
        var found = new string?[_shardCount];
        int missing = _shardCount;
        long limit = (long)_shardCount * ShardProbeLimitPerShard;
        for (long i = 0; missing > 0 && i < limit; i++)
        {
            string id = string.Create(CultureInfo.InvariantCulture, $"shard-probe-{i}");
            int shard = _mesh.ShardFor(id);
            if (found[shard] is null)
            {
                found[shard] = id;
                missing--;
            }
        }

        if (missing > 0)
        {
            throw new InvalidOperationException($"{missing} of {_shardCount} shards got no id among {limit} tried: IMesh.ShardFor does not spread ids.");
        }

        return found!;
    }

    private static string Active(string capability)
    {
        List<string> keys = ActiveActors.Keys(capability);
        return $"ACTIVE {keys.Count} {(keys.Count == 0 ? "-" : string.Join(',', keys))}";
    }

    private async Task<string> RegisterAsync(string[] capabilities)
    {
        await _mesh.RegisterCapabilitiesAsync(capabilities).ConfigureAwait(false);
        var now = new List<string>(_mesh.Capabilities);
        now.Sort(StringComparer.Ordinal);
        return $"REGISTERED {string.Join(',', now)}";
    }

    private string Stats()
    {
        int up = 0;
        IReadOnlyList<MeshNode> members = _mesh.Members;
        foreach (MeshNode member in members)
        {
            if (member.Status == MeshNodeStatus.Up)
            {
                up++;
            }
        }

        return $"STATS active={ActiveActors.Count} activations={ActiveActors.Activations} deactivations={ActiveActors.Deactivations} rebalanced={ActiveActors.Rebalanced} calls={ActiveActors.Calls} members={members.Count} up={up}";
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private readonly record struct Outcome(Answer? Answer, string? Error, TimeSpan Elapsed, string? Message = null);

    /// <summary>Counts outcomes of calls made by several workers at once.</summary>
    private sealed class Tally
    {
        private readonly Lock _gate = new();
        private readonly SortedDictionary<string, int> _nodes = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, int> _errors = new(StringComparer.Ordinal);

        public int Ok { get; private set; }

        public int Errors { get; private set; }

        public int Hangs { get; private set; }

        public int Misrouted { get; private set; }

        public long MinValue { get; private set; } = -1;

        public long MaxValue { get; private set; } = -1;

        public TimeSpan MaxElapsed { get; private set; }

        public long FirstErrorMs { get; private set; } = -1;

        public long LastErrorMs { get; private set; } = -1;

        /// <summary>Gets the type and message of the first error counted, on one line; null when there was none.</summary>
        public string? FirstError { get; private set; }

        public void Add(Outcome outcome, bool misrouted, TimeSpan sinceStart)
        {
            lock (_gate)
            {
                if (outcome.Elapsed > MaxElapsed)
                {
                    MaxElapsed = outcome.Elapsed;
                }

                if (outcome.Answer is { } answer)
                {
                    Ok++;
                    Misrouted += misrouted ? 1 : 0;
                    MinValue = MinValue < 0 ? answer.Value : Math.Min(MinValue, answer.Value);
                    MaxValue = Math.Max(MaxValue, answer.Value);
                    _nodes[answer.Node] = _nodes.GetValueOrDefault(answer.Node) + 1;
                    return;
                }

                Errors++;
                Hangs += outcome.Error == "Hang" ? 1 : 0;
                _errors[outcome.Error!] = _errors.GetValueOrDefault(outcome.Error!) + 1;
                FirstError ??= $"{outcome.Error}: {OneLine(outcome.Message ?? "")}";
                long at = (long)sinceStart.TotalMilliseconds;
                FirstErrorMs = FirstErrorMs < 0 ? at : Math.Min(FirstErrorMs, at);
                LastErrorMs = Math.Max(LastErrorMs, at);
            }
        }

        public string Nodes() => Join(_nodes);

        public string ErrorTypes() => Join(_errors);

        private string Join(SortedDictionary<string, int> counts)
        {
            lock (_gate)
            {
                if (counts.Count == 0)
                {
                    return "-";
                }

                var text = new StringBuilder();
                foreach (KeyValuePair<string, int> pair in counts)
                {
                    text.Append(text.Length == 0 ? "" : ",").Append(pair.Key).Append(':').Append(pair.Value);
                }

                return text.ToString();
            }
        }
    }
}
