using System.Collections.Immutable;

namespace Mesh.Membership;

/// <summary>One node's view of the cluster at one moment: every member it knows (this node included) with its status
/// and capabilities. Membership publishes a new snapshot, with a higher <see cref="Version"/>, on every change; the
/// runtime rebuilds its routing table from it and rebalances.</summary>
/// <param name="Version">Increases with every change this node sees.</param>
/// <param name="Self">This node.</param>
/// <param name="Members">Every known member, this node included, whatever its status (routing uses those that are up).</param>
internal sealed record MembershipSnapshot(long Version, MeshNode Self, ImmutableArray<MeshNode> Members);
