using System.Globalization;

namespace DemoSample;

/// <summary>The demo's command line: <c>[--duration seconds | --forever] [--base-port port] [--dashboard-url url]</c>.</summary>
internal sealed class DemoOptions
{
    /// <summary>How long the demo runs calls by default: long enough to watch the dashboard fill, short enough for a
    /// first run.</summary>
    public const int DefaultDurationSeconds = 10;

    /// <summary>node1 listens here, node2 and node3 on the next two ports.</summary>
    public const int DefaultBasePort = 7401;

    public const string DefaultDashboardUrl = "http://127.0.0.1:7480";

    public const string Usage = """
        usage: dotnet run --project samples/Demo [-- options]
          --duration <seconds>   run calls this long, then stop (default 10)
          --forever              run calls until Ctrl+C
          --base-port <port>     node1 listens on 127.0.0.1:<port>, node2 and node3 on the next ports (default 7401)
          --dashboard-url <url>  where node1 serves the dashboard (default http://127.0.0.1:7480)
        """;

    /// <summary>Gets how long to run calls; null: until Ctrl+C.</summary>
    public TimeSpan? Duration { get; private set; } = TimeSpan.FromSeconds(DefaultDurationSeconds);

    public int BasePort { get; private set; } = DefaultBasePort;

    public string DashboardUrl { get; private set; } = DefaultDashboardUrl;

    /// <summary>Parses the arguments; writes the problem and the usage and returns null when they are wrong.</summary>
    public static DemoOptions? Parse(string[] args, TextWriter error)
    {
        var options = new DemoOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--forever":
                    options.Duration = null;
                    continue;
                case "--duration" when value is not null && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds > 0:
                    options.Duration = TimeSpan.FromSeconds(seconds);
                    break;
                case "--base-port" when value is not null && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65534:
                    options.BasePort = port;
                    break;
                case "--dashboard-url" when value is not null && Uri.TryCreate(value, UriKind.Absolute, out _):
                    options.DashboardUrl = value;
                    break;
                default:
                    error.WriteLine($"demo: cannot use '{args[i]}{(value is null ? "" : " " + value)}'.{Environment.NewLine}{Usage}");
                    return null;
            }

            i++;
        }

        return options;
    }
}
