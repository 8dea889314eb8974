namespace Mesh.Runtime;

/// <summary>What an activation tells its actor: who it is, the mesh, and when it is being deactivated.</summary>
internal sealed class ActorContext(Activation activation) : IActorContext
{
    public ActorId Id => activation.Id;

    public IMesh Mesh => activation.Runtime;

    public CancellationToken Deactivating => activation.DeactivatingToken;

    public void DeactivateOnIdle() => activation.RequestDeactivation(DeactivationReason.Requested);
}
