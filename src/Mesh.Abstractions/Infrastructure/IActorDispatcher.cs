using System.Buffers;
using System.ComponentModel;

namespace Mesh.Infrastructure;

/// <summary>
/// The generated dispatch table of one actor contract: turns a serialized request into a call on the actor and
/// serializes the result. Used for messages that arrive from other nodes.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IActorDispatcher
{
    /// <summary>Gets the contract's methods, ordered by id.</summary>
    IReadOnlyList<ActorMethod> Methods { get; }

    /// <summary>Deserializes a request, calls the actor and writes the serialized response.</summary>
    /// <param name="actor">The activation's instance; it implements the contract.</param>
    /// <param name="methodId">The id of the method to call.</param>
    /// <param name="request">The serialized request message.</param>
    /// <param name="response">Receives the serialized response message; nothing is written for one-way methods.</param>
    /// <param name="cancellationToken">Passed to the method's <see cref="CancellationToken"/> parameter.</param>
    /// <returns>A task that completes when the response has been written.</returns>
    /// <exception cref="MeshProtocolException">The method id is unknown or the request does not deserialize.</exception>
    ValueTask DispatchAsync(IMeshActor actor, uint methodId, ReadOnlySequence<byte> request, IBufferWriter<byte> response, CancellationToken cancellationToken);
}
