using System.Buffers;
using System.Runtime.InteropServices;

namespace Mesh.Transport.Framing;

/// <summary>
/// The response of a request whose handler answers later (<see cref="FramedConnection.Defer"/>): write the payload into
/// <see cref="Writer"/> from any thread, then call <see cref="Complete"/> or <see cref="Fail"/> exactly once. A copy
/// of a completed instance cannot complete the pooled frame's next use: each deferral has its own id.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct DeferredResponse
{
    private readonly FramedConnection? _connection;
    private readonly OutboundFrame? _frame;
    private readonly long _id;

    internal DeferredResponse(FramedConnection connection, OutboundFrame frame, long id)
    {
        _connection = connection;
        _frame = frame;
        _id = id;
    }

    /// <summary>Gets a value indicating whether this instance stands for a deferred response (not a default one).</summary>
    public bool IsValid => _frame is not null;

    /// <summary>Gets where the response payload is written.</summary>
    public IBufferWriter<byte> Writer => _frame ?? throw new InvalidOperationException("A default DeferredResponse has no writer.");

    /// <summary>Drops what was written so far (to write another answer instead).</summary>
    public void Clear() => _frame?.Clear();

    /// <summary>Sends what was written as the response.</summary>
    /// <exception cref="InvalidOperationException">The response was completed already.</exception>
    public void Complete() => _connection?.CompleteDeferred(_frame!, _id, error: null);

    /// <summary>Sends an error frame instead: the requester gets a <see cref="RemoteRequestException"/> with
    /// <paramref name="message"/>.</summary>
    /// <param name="message">Why the request failed.</param>
    /// <exception cref="InvalidOperationException">The response was completed already.</exception>
    public void Fail(string message) => _connection?.CompleteDeferred(_frame!, _id, message);
}
