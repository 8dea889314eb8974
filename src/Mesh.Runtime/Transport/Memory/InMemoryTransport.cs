using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.Transport.Memory;

/// <summary>
/// A transport inside one process, for unit tests: a connection is a pair of <see cref="Pipe"/>s with bounded pause
/// thresholds (so backpressure behaves as over a network), listeners are found by address on an
/// <see cref="InMemoryNetwork"/>, and a peer's identity is the name its transport was given.
/// </summary>
internal sealed class InMemoryTransport : ITransport
{
    /// <summary>The default number of unread bytes at which a connection's writer is paused: 1 MiB.</summary>
    public const long DefaultPauseThreshold = 1024 * 1024;

    private readonly InMemoryNetwork _network;
    private readonly PipeOptions _pipeOptions;

    /// <summary>Initializes a new instance of the <see cref="InMemoryTransport"/> class.</summary>
    /// <param name="name">The identity this node proves to its peers (<see cref="PeerIdentity.Subject"/> is <c>CN=name</c>).</param>
    /// <param name="network">The network to join; <see cref="InMemoryNetwork.Shared"/> when <see langword="null"/>.</param>
    /// <param name="pauseThreshold">Unread bytes at which a writer waits; it resumes at half of it.</param>
    public InMemoryTransport(string name, InMemoryNetwork? network = null, long pauseThreshold = DefaultPauseThreshold)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(pauseThreshold, 2);
        Identity = IdentityOf(name);
        _network = network ?? InMemoryNetwork.Shared;
        _pipeOptions = new PipeOptions(
            pauseWriterThreshold: pauseThreshold,
            resumeWriterThreshold: pauseThreshold / 2,
            useSynchronizationContext: false);
    }

    public string Name => "memory";

    /// <summary>Gets the identity peers see for this transport.</summary>
    public PeerIdentity Identity { get; }

    public ValueTask<ITransportListener> ListenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var listener = new InMemoryListener(_network, this);
        listener.Bind(endPoint);
        return ValueTask.FromResult<ITransportListener>(listener);
    }

    public ValueTask<ITransportConnection> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_network.TryFind(endPoint, out InMemoryListener? listener) || listener is null)
        {
            throw new TransportException($"No in-memory listener at {endPoint}: connection refused.");
        }

        var toServer = new Pipe(_pipeOptions);
        var toClient = new Pipe(_pipeOptions);
        (InMemoryConnection client, InMemoryConnection server) =
            InMemoryConnection.CreatePair(toServer, toClient, endPoint, listener.Owner.Identity, Identity);
        if (!listener.TryEnqueue(server))
        {
            throw new TransportException($"The in-memory listener at {endPoint} is closed: connection refused.");
        }

        return ValueTask.FromResult<ITransportConnection>(client);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static PeerIdentity IdentityOf(string name) =>
        new("CN=" + name, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name))));
}
