using Mesh.Transport;

namespace Mesh.Messaging;

/// <summary>A request or message could not be sent because no connection to the peer could be opened (the attempt
/// failed, or failed so recently that the peer is in its reconnect backoff). Nothing reached the peer, so the caller
/// may send it again, for example once its view of the cluster changed.</summary>
internal sealed class PeerUnreachableException : TransportException
{
    public PeerUnreachableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
