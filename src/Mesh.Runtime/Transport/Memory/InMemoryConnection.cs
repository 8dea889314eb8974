using System.IO.Pipelines;
using System.Net;

namespace Mesh.Transport.Memory;

/// <summary>One end of an in-memory connection: it reads from one pipe and writes to the other.</summary>
internal sealed class InMemoryConnection : ITransportConnection
{
    private readonly PipeWriter _peerOutput;
    private int _aborted;

    internal InMemoryConnection(Pipe inbound, Pipe outbound, EndPoint? remoteEndPoint, PeerIdentity peer)
    {
        Input = inbound.Reader;
        Output = outbound.Writer;
        _peerOutput = inbound.Writer;
        RemoteEndPoint = remoteEndPoint;
        Peer = peer;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public EndPoint? RemoteEndPoint { get; }

    public PeerIdentity Peer { get; }

    public void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        // What a reset looks like: both directions end with the error at once, unread data is discarded, and the reads
        // of both ends throw it. The peer's later writes fail too (its writer is completed).
        var error = new TransportException($"The in-memory connection was aborted: {reason}");
        Output.Complete(error);
        _peerOutput.Complete(error);
    }

    public ValueTask DisposeAsync()
    {
        Output.Complete();
        Input.Complete();
        return ValueTask.CompletedTask;
    }
}
