using System.Collections.Concurrent;
using System.Net;

namespace Mesh.Transport.Memory;

/// <summary>A private "network" of <see cref="InMemoryTransport"/>s: the listeners registered by address. Transports on
/// different networks cannot see each other, so tests running in parallel do not collide.</summary>
internal sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<EndPoint, InMemoryListener> _listeners = new();
    private int _nextPort = 49152;

    /// <summary>Gets the network every transport created without one joins.</summary>
    public static InMemoryNetwork Shared { get; } = new();

    internal EndPoint Bind(EndPoint endPoint, InMemoryListener listener)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint is IPEndPoint { Port: 0 } ip)
        {
            // Port 0 asks for a free port, as with sockets.
            while (true)
            {
                var candidate = new IPEndPoint(ip.Address, Interlocked.Increment(ref _nextPort));
                if (_listeners.TryAdd(candidate, listener))
                {
                    return candidate;
                }
            }
        }

        if (!_listeners.TryAdd(endPoint, listener))
        {
            throw new TransportException($"The in-memory address {endPoint} is already in use.");
        }

        return endPoint;
    }

    internal void Unbind(EndPoint endPoint, InMemoryListener listener) =>
        _listeners.TryRemove(new KeyValuePair<EndPoint, InMemoryListener>(endPoint, listener));

    internal bool TryFind(EndPoint endPoint, out InMemoryListener? listener) => _listeners.TryGetValue(endPoint, out listener);
}
