using System.Buffers;
using System.Buffers.Binary;
using Mesh.Transport.Framing;
using Mesh.Transport.TestPeer;

namespace Mesh.Transport.Tests.Conformance;

/// <summary>Echoes requests and records the number (first 4 bytes, little-endian) of every one-way message, in arrival
/// order; <see cref="AllArrived"/> completes when <c>expected</c> have come.</summary>
internal sealed class RecordingHandler(int expected) : IFrameHandler
{
    private readonly List<int> _received = [];
    private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task AllArrived => _allArrived.Task;

    public int[] Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken) =>
        EchoHandler.Instance.HandleRequestAsync(connection, payload, response, cancellationToken);

    public ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
    {
        Span<byte> number = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(number);
        lock (_received)
        {
            _received.Add(BinaryPrimitives.ReadInt32LittleEndian(number));
            if (_received.Count == expected)
            {
                _allArrived.TrySetResult();
            }
        }

        return default;
    }
}
