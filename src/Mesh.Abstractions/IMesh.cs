namespace Mesh;

/// <summary>
/// Entry point to the actors of a Mesh cluster from any code: hosts, controllers and actors themselves.
/// </summary>
public interface IMesh
{
    /// <summary>Gets the capabilities this node has registered.</summary>
    IReadOnlySet<string> Capabilities { get; }

    /// <summary>
    /// Gets a proxy for the actor with the contract <typeparamref name="T"/> and the key <paramref name="id"/>.
    /// Nothing is activated until the first call; the proxy may be cached and shared between threads.
    /// </summary>
    /// <typeparam name="T">An interface marked with <see cref="MeshActorAttribute"/>.</typeparam>
    /// <param name="id">The actor's key; any non-empty string.</param>
    /// <returns>A proxy that routes every call to the actor's owner node.</returns>
    /// <exception cref="ArgumentException"><paramref name="id"/> is null or empty.</exception>
    /// <exception cref="InvalidOperationException">
    /// <typeparamref name="T"/> is not an actor contract the Mesh generator has processed.
    /// </exception>
    T GetActor<T>(string id)
        where T : IMeshActor;

    /// <summary>
    /// Adds capabilities to this node at run time, so that it starts hosting actors of those capabilities.
    /// </summary>
    /// <param name="capabilities">The capability names to add; names this node already has are ignored.</param>
    /// <param name="cancellationToken">Cancels the registration.</param>
    /// <returns>A task that completes when the capabilities are in effect on this node.</returns>
    /// <exception cref="ArgumentException">A capability name is empty or not of the form <c>^[a-z][a-z0-9_.-]*$</c>.</exception>
    ValueTask RegisterCapabilitiesAsync(IEnumerable<string> capabilities, CancellationToken cancellationToken = default);

    /// <summary>Gets this node as the cluster sees it.</summary>
    MeshNode Self { get; }

    /// <summary>Gets every member this node knows of, itself included, with its status (up, suspect, down, left),
    /// endpoint and capabilities. A node without an endpoint (<c>ListenOn</c>) is a cluster of one.</summary>
    IReadOnlyList<MeshNode> Members { get; }

    /// <summary>Raised after this node's cluster view changed (a member came up, was suspected, went down, left or
    /// registered capabilities) and routing already follows the new view. Handlers run one at a time, in the order of
    /// the changes, on a thread of their own: a slow handler delays later events, never membership or calls. An
    /// exception from a handler is logged and the next event is raised.</summary>
    event EventHandler<MembershipChangedEventArgs>? MembershipChanged;

    /// <summary>Gets the shard <paramref name="id"/> maps to: a stable hash of the id (XxHash3 of its UTF-8 bytes) modulo
    /// the cluster's shard count. The same on every node and in every run.</summary>
    /// <param name="id">An actor key.</param>
    /// <returns>The shard, from 0 to the shard count minus one.</returns>
    int ShardFor(string id);

    /// <summary>Gets the node that owns <paramref name="id"/> of <paramref name="capability"/> in this node's view.</summary>
    /// <param name="capability">The capability.</param>
    /// <param name="id">An actor key.</param>
    /// <returns>The owner, or <see langword="null"/> when no node that is up serves the capability.</returns>
    MeshNode? OwnerOf(string capability, string id);

    /// <summary>Gets the nodes that are up and serve <paramref name="capability"/>, ordered by name.</summary>
    /// <param name="capability">The capability.</param>
    /// <returns>The nodes; empty when none serves it.</returns>
    IReadOnlyList<MeshNode> NodesFor(string capability);

    /// <summary>Gets every capability some node that is up serves.</summary>
    /// <returns>The capabilities of the cluster.</returns>
    IReadOnlySet<string> AllCapabilities();
}
