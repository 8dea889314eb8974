using System.Buffers;
using System.Collections.Concurrent;
using Mesh.Membership;
using Mesh.Messaging;
using Mesh.Transport;
using Mesh.Transport.Framing;

namespace Mesh.Runtime.Tests.Membership;

/// <summary>
/// An in-process network of membership services, one <see cref="IPeerNetwork"/> per node, with the failures a real
/// network has: a node that is gone (connections refused), a node that hangs (requests time out), messages dropped by
/// a filter, partitions, and latency. Delivery hops to the thread pool, as a real connection's read loop would.
/// </summary>
internal sealed class SimulatedNetwork(TimeProvider? timeProvider = null)
{
    private readonly ConcurrentDictionary<string, IClusterServiceHandler> _handlers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, byte> _frozen = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _requestsTo = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(string From, string To), int> _requestsBetween = new();
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private volatile Func<string, string, MembershipMessageType, bool>? _drop;
    private volatile HashSet<string>? _partition;

    /// <summary>Gets or sets how long each message takes to arrive.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Registers the node listening on <paramref name="endpoint"/>.</summary>
    public void Listen(string endpoint, IClusterServiceHandler handler) => _handlers[endpoint] = handler;

    /// <summary>The node on <paramref name="endpoint"/> is gone: connecting to it is refused.</summary>
    public void Kill(string endpoint) => _handlers.TryRemove(endpoint, out _);

    /// <summary>The node on <paramref name="endpoint"/> hangs: it neither answers nor sends until <see cref="Thaw"/>.</summary>
    public void Freeze(string endpoint) => _frozen[endpoint] = 0;

    public void Thaw(string endpoint) => _frozen.TryRemove(endpoint, out _);

    /// <summary>Drops every message <paramref name="filter"/> (from, to, type) returns true for; null drops nothing.</summary>
    public void Drop(Func<string, string, MembershipMessageType, bool>? filter) => _drop = filter;

    /// <summary>Cuts the endpoints of <paramref name="side"/> off from every other endpoint.</summary>
    public void Partition(IEnumerable<string> side) => _partition = new HashSet<string>(side, StringComparer.OrdinalIgnoreCase);

    public void Heal() => _partition = null;

    /// <summary>How many requests were sent to <paramref name="endpoint"/>.</summary>
    public int RequestsTo(string endpoint) => _requestsTo.TryGetValue(endpoint, out int count) ? count : 0;

    /// <summary>How many requests <paramref name="from"/> sent to <paramref name="to"/>.</summary>
    public int RequestsBetween(string from, string to) => _requestsBetween.TryGetValue((from, to), out int count) ? count : 0;

    public IPeerNetwork For(string endpoint) => new Peer(this, endpoint);

    private bool Blocked(string from, string to, ReadOnlySpan<byte> payload)
    {
        if (_frozen.ContainsKey(from) || _frozen.ContainsKey(to))
        {
            return true;
        }

        if (_partition is { } side && side.Contains(from) != side.Contains(to))
        {
            return true;
        }

        return _drop is { } drop && payload.Length > 1 && drop(from, to, (MembershipMessageType)payload[1]);
    }

    private async ValueTask<FramePayload> RequestAsync(string from, string to, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _requestsTo.AddOrUpdate(to, 1, static (_, n) => n + 1);
        _requestsBetween.AddOrUpdate((from, to), 1, static (_, n) => n + 1);
        byte[] request = payload.ToArray();
        await DelayAsync(cancellationToken).ConfigureAwait(false);
        if (!_handlers.TryGetValue(to, out IClusterServiceHandler? handler))
        {
            throw new TransportException($"Connection to {to} refused.");
        }

        if (Blocked(from, to, request))
        {
            await Task.Delay(timeout, _time, cancellationToken).ConfigureAwait(false);
            throw new TimeoutException($"No answer from {to} within {timeout}.");
        }

        var response = new ArrayBufferWriter<byte>();
        try
        {
            await handler.HandleRequestAsync(new ReadOnlySequence<byte>(request), response, new PeerIdentity(from, "SIMULATED"), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new RemoteRequestException(exception.Message);
        }

        // The answer crosses the same network back; a node that froze or got cut off meanwhile never delivers it.
        if (Blocked(to, from, request))
        {
            await Task.Delay(timeout, _time, cancellationToken).ConfigureAwait(false);
            throw new TimeoutException($"No answer from {to} within {timeout}.");
        }

        byte[] array = ArrayPool<byte>.Shared.Rent(Math.Max(1, response.WrittenCount));
        response.WrittenSpan.CopyTo(array);
        return new FramePayload(array, response.WrittenCount);
    }

    private ValueTask SendOneWayAsync(string from, string to, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        byte[] message = payload.ToArray();
        if (!_handlers.TryGetValue(to, out IClusterServiceHandler? handler))
        {
            throw new TransportException($"Connection to {to} refused.");
        }

        _ = Task.Run(
            async () =>
            {
                await DelayAsync(CancellationToken.None).ConfigureAwait(false);
                if (Blocked(from, to, message))
                {
                    return;
                }

                try
                {
                    await handler.HandleOneWayAsync(new ReadOnlySequence<byte>(message), new PeerIdentity(from, "SIMULATED"), CancellationToken.None).ConfigureAwait(false);
                }
                catch (MeshProtocolException)
                {
                    // A real connection logs a failed one-way message and carries on; so does this one.
                }
            },
            CancellationToken.None);
        return default;
    }

    private async ValueTask DelayAsync(CancellationToken cancellationToken)
    {
        TimeSpan latency = Latency;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, _time, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await Task.Yield();
        }
    }

    private sealed class Peer(SimulatedNetwork network, string self) : IPeerNetwork
    {
        public ValueTask<FramePayload> RequestAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Assert.Equal(ClusterService.Membership, service);
            return network.RequestAsync(self, endpoint, payload, timeout, cancellationToken);
        }

        public ValueTask SendOneWayAsync(string endpoint, ClusterService service, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            Assert.Equal(ClusterService.Membership, service);
            return network.SendOneWayAsync(self, endpoint, payload, cancellationToken);
        }

        public void OnMemberChanged(string endpoint, MembershipChangeKind kind)
        {
            // The simulation keeps no connections, so there is nothing to close or retry.
        }
    }
}
