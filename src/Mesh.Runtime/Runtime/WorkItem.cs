namespace Mesh.Runtime;

/// <summary>One entry of an activation's mailbox: a call, a one-way message, or a lifecycle step.</summary>
internal abstract class WorkItem
{
    /// <summary>Gets or sets the item queued after this one; owned by <see cref="WorkItemQueue"/> while queued.</summary>
    public WorkItem? Next { get; set; }

    /// <summary>Runs the item as the activation's current turn.</summary>
    /// <param name="activation">The activation that owns the turn.</param>
    /// <returns><see langword="true"/> when the turn ended synchronously; otherwise the item calls
    /// <see cref="Activation.OnTurnCompleted"/> when it ends.</returns>
    public abstract bool Execute(Activation activation);

    /// <summary>Fails the item without running it (activation failed, node stopping).</summary>
    /// <param name="exception">What the caller sees.</param>
    public abstract void Fail(Exception exception);

    /// <summary>Moves the item to <paramref name="runtime"/>'s current activation of the same id, after the activation it
    /// was queued on deactivated.</summary>
    /// <param name="runtime">The runtime.</param>
    public abstract void Reroute(MeshRuntime runtime);
}
