using Mesh.Infrastructure;

namespace Mesh.Runtime;

/// <summary>What a generated proxy calls: resolves the actor's activation on this node (cached between calls) and hands
/// the request to it.</summary>
internal sealed class LocalActorReference(MeshRuntime runtime, ActorContract contract, ActorId id) : ActorReference(id)
{
    private Activation? _activation;

    public ActorContract Contract { get; } = contract;

    public override ValueTask<TResponse> InvokeAsync<TRequest, TActor, TResponse>(in TRequest request, CancellationToken cancellationToken)
    {
        Activation activation;
        try
        {
            activation = Resolve();
        }
        catch (MeshException exception)
        {
            return ValueTask.FromException<TResponse>(exception);
        }

        return CallItem<TRequest, TActor, TResponse>.Invoke(activation, in request, cancellationToken);
    }

    public override ValueTask InvokeVoidAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
    {
        ValueTask<VoidResponse> pending = InvokeAsync<TRequest, TActor, VoidResponse>(in request, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            _ = pending.Result;
            return default;
        }

        return AwaitAsync(pending);

        static async ValueTask AwaitAsync(ValueTask<VoidResponse> pending) => await pending.ConfigureAwait(false);
    }

    public override ValueTask SendAsync<TRequest, TActor>(in TRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            CallItem<TRequest, TActor, VoidResponse>.Send(Resolve(), in request);
            return default;
        }
        catch (MeshException exception)
        {
            return ValueTask.FromException(exception);
        }
    }

    private Activation Resolve()
    {
        Activation? activation = _activation;
        if (activation is not null && !activation.IsGone)
        {
            return activation;
        }

        activation = runtime.GetActivation(Id, Contract);
        _activation = activation;
        return activation;
    }
}
