using System.Buffers;
using System.ComponentModel;

namespace Mesh.Infrastructure;

/// <summary>
/// Implemented by the request message the Mesh generator emits for one actor method. Generated code and the
/// runtime use it; application code does not.
/// </summary>
/// <typeparam name="TSelf">The generated request struct itself.</typeparam>
/// <typeparam name="TActor">The actor contract interface.</typeparam>
/// <typeparam name="TResponse">The method's result type, or <see cref="VoidResponse"/> for methods without one.</typeparam>
/// <remarks>
/// The members are static so that the runtime invokes the actor through a constrained generic call: no boxing,
/// no delegate and no reflection between the proxy and the actor method.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IActorRequest<TSelf, TActor, TResponse>
    where TSelf : struct, IActorRequest<TSelf, TActor, TResponse>
    where TActor : class, IMeshActor
{
    /// <summary>Gets the method's stable id: a hash of its name and parameter types, or of its alias.</summary>
    static abstract uint MethodId { get; }

    /// <summary>Gets the method's name, for errors and traces.</summary>
    static abstract string MethodName { get; }

    /// <summary>Calls the actor method with the arguments the request carries.</summary>
    /// <param name="actor">The activation's instance.</param>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Passed to the method's <see cref="CancellationToken"/> parameter, if it has one.</param>
    /// <returns>The method's result.</returns>
    static abstract ValueTask<TResponse> InvokeAsync(TActor actor, in TSelf request, CancellationToken cancellationToken);

    /// <summary>Gets a value indicating whether the method is a <see cref="OneWayAttribute">one-way</see> cast: no
    /// response crosses the network.</summary>
    static abstract bool IsOneWay { get; }

    /// <summary>Serializes <paramref name="request"/> the way the owner's <see cref="IActorDispatcher"/> reads it, for a
    /// call to an actor on another node.</summary>
    /// <param name="output">Receives the serialized request.</param>
    /// <param name="request">The request.</param>
    static abstract void Write(IBufferWriter<byte> output, in TSelf request);

    /// <summary>Deserializes the result the owner's <see cref="IActorDispatcher"/> wrote for this method.</summary>
    /// <param name="input">The serialized response; empty for methods without a result.</param>
    /// <returns>The method's result.</returns>
    /// <exception cref="MeshProtocolException">The response does not deserialize.</exception>
    static abstract TResponse ReadResponse(in ReadOnlySequence<byte> input);
}
