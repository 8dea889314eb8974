using System.Net;
using Mesh.Transport;
using Mesh.Transport.Framing;
using Mesh.Transport.TestPeer;
using Microsoft.Extensions.Logging.Abstractions;

// Usage: dotnet Mesh.Transport.TestPeer.dll --transport <name> [--port <n>] [transport-specific options, e.g. credential
// file paths]. Prints "PORT=<n>" once listening on 127.0.0.1, then echoes requests until killed or stdin closes.
Dictionary<string, string> options = ParseArguments(args);
if (!options.TryGetValue("transport", out string? name))
{
    await Console.Error.WriteLineAsync("--transport is required").ConfigureAwait(false);
    return 2;
}

int port = options.TryGetValue("port", out string? portText) ? int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture) : 0;
using var metrics = new TransportMetrics();
ITransport? transport = PeerTransports.Create(name, options, metrics);
if (transport is null)
{
    await Console.Error.WriteLineAsync($"The test peer cannot host transport '{name}'.").ConfigureAwait(false);
    return 2;
}

await using (transport.ConfigureAwait(false))
{
    ITransportListener listener = await transport.ListenAsync(new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None).ConfigureAwait(false);
    await using (listener.ConfigureAwait(false))
    {
        Console.WriteLine($"PORT={((IPEndPoint)listener.LocalEndPoint).Port}");
        Console.Out.Flush();
        using var stop = new CancellationTokenSource();

        // The test closes stdin to ask for a clean exit; killing the process is the other way out.
        _ = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync().ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
        });

        var framing = new FramedConnectionOptions();
        try
        {
            while (await listener.AcceptAsync(stop.Token).ConfigureAwait(false) is { } accepted)
            {
                var connection = new FramedConnection(accepted, transport.Name, EchoHandler.Instance, framing, metrics, NullLogger.Instance);
                connection.Start();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

return 0;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        options[args[i].TrimStart('-')] = args[i + 1];
    }

    return options;
}
