using System.Net;
using System.Threading.Channels;

namespace Mesh.Transport.Memory;

/// <summary>Inbound connections of an <see cref="InMemoryTransport"/>, registered on its network by address.</summary>
internal sealed class InMemoryListener : ITransportListener
{
    private readonly InMemoryNetwork _network;
    private readonly Channel<InMemoryConnection> _pending = Channel.CreateUnbounded<InMemoryConnection>(new UnboundedChannelOptions { SingleWriter = false });
    private EndPoint? _localEndPoint;

    internal InMemoryListener(InMemoryNetwork network, InMemoryTransport owner)
    {
        _network = network;
        Owner = owner;
    }

    public EndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("The listener is not bound.");

    internal InMemoryTransport Owner { get; }

    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        while (await _pending.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_pending.Reader.TryRead(out InMemoryConnection? connection))
            {
                return connection;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_localEndPoint is not null)
        {
            _network.Unbind(_localEndPoint, this);
        }

        _pending.Writer.TryComplete();

        // Connections that were never accepted are refused: their clients see an error, as with a reset.
        while (_pending.Reader.TryRead(out InMemoryConnection? connection))
        {
            connection.Abort("the listener closed before accepting the connection");
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal void Bind(EndPoint endPoint) => _localEndPoint = _network.Bind(endPoint, this);

    internal bool TryEnqueue(InMemoryConnection connection) => _pending.Writer.TryWrite(connection);
}
