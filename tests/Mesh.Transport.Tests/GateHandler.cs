using System.Buffers;
using Mesh.Transport.Framing;
using Mesh.Transport.TestPeer;

namespace Mesh.Transport.Tests;

/// <summary>Echoes, except: "gate" and every one-way message wait until <see cref="Open"/>; "fail" throws.</summary>
internal sealed class GateHandler : IFrameHandler
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    public async ValueTask HandleRequestAsync(FramedConnection connection, ReadOnlySequence<byte> payload, IBufferWriter<byte> response, CancellationToken cancellationToken)
    {
        byte[] request = payload.ToArray();
        if (request.AsSpan().SequenceEqual("gate"u8))
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }
        else if (request.AsSpan().SequenceEqual("fail"u8))
        {
            throw new InvalidOperationException("the handler refused");
        }

        await EchoHandler.Instance.HandleRequestAsync(connection, payload, response, cancellationToken);
    }

    public async ValueTask HandleOneWayAsync(FramedConnection connection, ReadOnlySequence<byte> payload, CancellationToken cancellationToken) =>
        await _gate.Task.WaitAsync(cancellationToken);
}
