using System.Globalization;

namespace Mesh.Cluster.Tests.Harness;

/// <summary>A member as one node's <c>members</c> answer lists it.</summary>
internal sealed record Member(string Name, string Status, string Endpoint, IReadOnlyList<string> Capabilities)
{
    public bool IsUp => Status == "Up";

    public override string ToString() => $"{Name}:{Status}";
}

/// <summary>The answer to <c>calls</c> or <c>run</c>: <c>key=value</c> fields, with per-node and per-error counts.</summary>
internal sealed class CallReport
{
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

    public CallReport(string line)
    {
        Line = line;

        // The first error's message may hold anything, so it comes last and is not split into fields.
        int firstError = line.IndexOf(" first_error=", StringComparison.Ordinal);
        if (firstError >= 0)
        {
            string text = line[(firstError + " first_error=".Length)..];
            FirstError = text == "-" ? null : text;
            line = line[..firstError];
        }

        foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            int equals = word.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                _fields[word[..equals]] = word[(equals + 1)..];
            }
        }

        Nodes = Counts("nodes");
        ErrorsByType = Counts("errors_by_type");
    }

    public string Line { get; }

    public int Ok => Int("ok");

    public int Errors => Int("errors");

    public int Hangs => Int("hangs");

    public int Misrouted => Int("misrouted");

    public long Min => Long("min");

    public long Max => Long("max");

    public long MaxMilliseconds => Long("max_ms");

    public long LastErrorMs => Long("last_error_ms");

    public IReadOnlyDictionary<string, int> Nodes { get; }

    public IReadOnlyDictionary<string, int> ErrorsByType { get; }

    /// <summary>Gets the type and message of the first error, or null when every call succeeded.</summary>
    public string? FirstError { get; }

    private int Int(string key) => (int)Long(key);

    private long Long(string key) =>
        _fields.TryGetValue(key, out string? text) ? long.Parse(text, CultureInfo.InvariantCulture)
        : throw new InvalidOperationException($"No '{key}' in '{Replies.Shorten(Line)}'.");

    private Dictionary<string, int> Counts(string key)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        if (_fields.TryGetValue(key, out string? text) && text != "-")
        {
            foreach (string pair in text.Split(','))
            {
                int colon = pair.LastIndexOf(':');
                counts[pair[..colon]] = int.Parse(pair[(colon + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return counts;
    }

    public override string ToString() => Line;
}

/// <summary>Parsers of the TestNode's answers.</summary>
internal static class Replies
{
    /// <summary>Parses <c>MEMBERS name/status/endpoint/caps ...</c>.</summary>
    public static List<Member> Members(string line)
    {
        var members = new List<Member>();
        foreach (string entry in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] parts = entry.Split('/');
            members.Add(new Member(parts[0], parts[1], parts[2], parts[3] == "-" ? [] : parts[3].Split(',')));
        }

        return members;
    }

    /// <summary>Parses <c>OWNERS name,name digest</c> into the owner's name of every shard (null: no owner).</summary>
    public static string?[] Owners(string line)
    {
        string[] words = line.Split(' ');
        string[] names = words[1] == "-" ? [] : words[1].Split(',');
        string digest = words[2];
        var owners = new string?[digest.Length];
        for (int shard = 0; shard < digest.Length; shard++)
        {
            owners[shard] = digest[shard] == '-' ? null : names[digest[shard] - 'a'];
        }

        return owners;
    }

    /// <summary>Parses <c>ACTIVE count id,id</c> into the ids.</summary>
    public static string[] Active(string line)
    {
        string[] words = line.Split(' ');
        return words.Length < 3 || words[2] == "-" ? [] : words[2].Split(',');
    }

    /// <summary>Cuts a long answer (an owner digest) for a message.</summary>
    public static string Shorten(string line) => line.Length <= 300 ? line : line[..300] + "...";
}
