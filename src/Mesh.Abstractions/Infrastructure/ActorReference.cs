using System.ComponentModel;

namespace Mesh.Infrastructure;

/// <summary>
/// The runtime's handle to one actor, held by a generated proxy. Every proxy method builds its request struct and
/// passes it here; the runtime routes it to the owner and completes the returned task with the result.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class ActorReference
{
    /// <summary>Initializes a new instance of the <see cref="ActorReference"/> class.</summary>
    /// <param name="id">The actor this reference points at.</param>
    protected ActorReference(ActorId id)
    {
        Id = id;
    }

    /// <summary>Gets the actor this reference points at.</summary>
    public ActorId Id { get; }

    /// <summary>Calls a method that returns a value and waits for it.</summary>
    /// <typeparam name="TRequest">The generated request struct.</typeparam>
    /// <typeparam name="TActor">The actor contract.</typeparam>
    /// <typeparam name="TResponse">The method's result type.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">The caller's token; canceling it abandons the call.</param>
    /// <returns>The method's result.</returns>
    public abstract ValueTask<TResponse> InvokeAsync<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, TResponse>
        where TActor : class, IMeshActor;

    /// <summary>Calls a method that returns no value and waits for it to finish.</summary>
    /// <typeparam name="TRequest">The generated request struct.</typeparam>
    /// <typeparam name="TActor">The actor contract.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">The caller's token; canceling it abandons the call.</param>
    /// <returns>A task that completes when the method has finished.</returns>
    public abstract ValueTask InvokeVoidAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, VoidResponse>
        where TActor : class, IMeshActor;

    /// <summary>Sends a <see cref="OneWayAttribute">one-way</see> message: completes once it is accepted for delivery.</summary>
    /// <typeparam name="TRequest">The generated request struct.</typeparam>
    /// <typeparam name="TActor">The actor contract.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the send before the message is accepted.</param>
    /// <returns>A task that completes when the message is accepted.</returns>
    public abstract ValueTask SendAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
        where TRequest : struct, IActorRequest<TRequest, TActor, VoidResponse>
        where TActor : class, IMeshActor;

    /// <inheritdoc/>
    public override string ToString() => Id.ToString();
}
