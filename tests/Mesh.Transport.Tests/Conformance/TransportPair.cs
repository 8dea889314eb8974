namespace Mesh.Transport.Tests.Conformance;

/// <summary>What a transport's conformance tests run on: a server and a client transport that trust each other, and the
/// metrics each counts into (the framing layer over them counts into the same ones).</summary>
public sealed class TransportPair : IAsyncDisposable
{
    private readonly IAsyncDisposable? _resources;

    /// <param name="server">The transport that listens.</param>
    /// <param name="client">The transport that connects.</param>
    /// <param name="serverMetrics">The server's metrics.</param>
    /// <param name="clientMetrics">The client's metrics.</param>
    /// <param name="resources">Anything else to dispose with the pair (certificates, temporary files).</param>
    internal TransportPair(ITransport server, ITransport client, TransportMetrics serverMetrics, TransportMetrics clientMetrics, IAsyncDisposable? resources = null)
    {
        Server = server;
        Client = client;
        ServerMetrics = serverMetrics;
        ClientMetrics = clientMetrics;
        _resources = resources;
    }

    internal ITransport Server { get; }

    internal ITransport Client { get; }

    internal TransportMetrics ServerMetrics { get; }

    internal TransportMetrics ClientMetrics { get; }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        ServerMetrics.Dispose();
        ClientMetrics.Dispose();
        if (_resources is not null)
        {
            await _resources.DisposeAsync();
        }
    }
}
