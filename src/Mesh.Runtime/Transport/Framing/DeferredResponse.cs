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
    private readonly IDeferredResponseOwner? _owner;
    private readonly IBufferWriter<byte>? _writer;
    private readonly long _id;

    /// <summary>Initializes a new instance of the <see cref="DeferredResponse"/> struct.</summary>
    /// <param name="owner">What sends the response when it is completed.</param>
    /// <param name="writer">Where the response is written.</param>
    /// <param name="id">The deferral's id, which the owner checks so that one response is completed once.</param>
    public DeferredResponse(IDeferredResponseOwner owner, IBufferWriter<byte> writer, long id)
    {
        _owner = owner;
        _writer = writer;
        _id = id;
    }

    /// <summary>Gets a value indicating whether this instance stands for a deferred response (not a default one).</summary>
    public bool IsValid => _owner is not null;

    /// <summary>Gets where the response payload is written.</summary>
    public IBufferWriter<byte> Writer => _writer ?? throw new InvalidOperationException("A default DeferredResponse has no writer.");

    /// <summary>Drops what was written so far (to write another answer instead).</summary>
    public void Clear() => _owner?.Clear(_writer!, _id);

    /// <summary>Sends what was written as the response.</summary>
    /// <exception cref="InvalidOperationException">The response was completed already.</exception>
    public void Complete() => _owner?.Complete(_writer!, _id, error: null);

    /// <summary>Sends an error frame instead: the requester gets a <see cref="RemoteRequestException"/> with
    /// <paramref name="message"/>.</summary>
    /// <param name="message">Why the request failed.</param>
    /// <exception cref="InvalidOperationException">The response was completed already.</exception>
    public void Fail(string message) => _owner?.Complete(_writer!, _id, message);
}

/// <summary>What sends a <see cref="DeferredResponse"/>: the <see cref="FramedConnection"/> the request came on.</summary>
internal interface IDeferredResponseOwner
{
    /// <summary>Drops what was written into <paramref name="writer"/>.</summary>
    void Clear(IBufferWriter<byte> writer, long id);

    /// <summary>Sends the response written into <paramref name="writer"/>, or an error with <paramref name="error"/>.</summary>
    /// <exception cref="InvalidOperationException">The response was completed already.</exception>
    void Complete(IBufferWriter<byte> writer, long id, string? error);
}
