namespace Mesh.Transport.TestPeer;

/// <summary>The one place the test peer turns a transport name into a transport. Each out-of-process transport adds its
/// case here (with the options it needs, e.g. <c>--cert</c>, <c>--key</c>, <c>--ca</c> file paths). The in-memory
/// transport cannot be reached from another process, so it has no case.</summary>
internal static class PeerTransports
{
    public static ITransport? Create(string name, IReadOnlyDictionary<string, string> options, TransportMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        switch (name)
        {
            default:
                return null;
        }
    }
}
