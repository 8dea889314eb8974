namespace Mesh.Runtime;

/// <summary>The first turn of every activation: creates the actor through DI and runs <see cref="IActorLifecycle.OnActivateAsync"/>.</summary>
internal sealed class ActivateItem : WorkItem
{
    private Activation? _activation;

    public override bool Execute(Activation activation)
    {
        ValueTask pending;
        try
        {
            pending = activation.ActivateAsync();
        }
        catch (Exception exception)
        {
            activation.OnActivationFailed(exception);
            return true;
        }

        if (pending.IsCompleted)
        {
            Finish(activation, pending);
            return true;
        }

        _activation = activation;
        pending.GetAwaiter().UnsafeOnCompleted(() => Finish(_activation!, pending, resume: true));
        return false;
    }

    public override void Fail(Exception exception)
    {
    }

    public override void Reroute(MeshRuntime runtime)
    {
        // A new activation gets its own activation step.
    }

    private static void Finish(Activation activation, ValueTask pending, bool resume = false)
    {
        try
        {
            pending.GetAwaiter().GetResult();
            activation.OnActivated();
        }
        catch (Exception exception)
        {
            activation.OnActivationFailed(exception);
        }

        if (resume)
        {
            activation.OnTurnCompleted();
        }
    }
}

/// <summary>The last turn of an activation: runs <see cref="IActorLifecycle.OnDeactivateAsync"/>, disposes the actor and
/// leaves the directory. Messages queued behind it are moved to the next activation of the id.</summary>
internal sealed class DeactivateItem(DeactivationReason reason) : WorkItem
{
    public DeactivationReason Reason { get; } = reason;

    public override bool Execute(Activation activation)
    {
        ValueTask pending = activation.DeactivateAsync(Reason);
        if (pending.IsCompleted)
        {
            pending.GetAwaiter().GetResult();
            return true;
        }

        pending.GetAwaiter().UnsafeOnCompleted(() =>
        {
            pending.GetAwaiter().GetResult();
            activation.OnTurnCompleted();
        });
        return false;
    }

    public override void Fail(Exception exception)
    {
    }

    public override void Reroute(MeshRuntime runtime)
    {
        // The activation it was meant for is gone already.
    }
}
