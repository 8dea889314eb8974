namespace Mesh.Membership;

/// <summary>Tells the cluster that this node's capabilities changed (implemented by the membership service).</summary>
internal interface ICapabilityAnnouncer
{
    /// <summary>Announces <paramref name="capabilities"/> as this node's capabilities: the change travels with the
    /// membership gossip to every member.</summary>
    /// <param name="capabilities">The node's whole capability set after the change.</param>
    /// <param name="cancellationToken">Cancels waiting; the announcement itself is not withdrawn.</param>
    /// <returns>A task that completes once the change is in this node's own view and on its way to the others.</returns>
    ValueTask AnnounceCapabilitiesAsync(IReadOnlySet<string> capabilities, CancellationToken cancellationToken);
}
