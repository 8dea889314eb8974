namespace Mesh;

/// <summary>Describes one change of this node's cluster view, raised by <see cref="IMesh.MembershipChanged"/>.</summary>
public sealed class MembershipChangedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance of the <see cref="MembershipChangedEventArgs"/> class.</summary>
    /// <param name="kind">What happened.</param>
    /// <param name="node">The member as the view holds it after the change.</param>
    /// <param name="version">The view's version after the change.</param>
    /// <exception cref="ArgumentNullException"><paramref name="node"/> is null.</exception>
    public MembershipChangedEventArgs(MembershipChangeKind kind, MeshNode node, long version)
    {
        ArgumentNullException.ThrowIfNull(node);
        Kind = kind;
        Node = node;
        Version = version;
    }

    /// <summary>Gets what happened.</summary>
    public MembershipChangeKind Kind { get; }

    /// <summary>Gets the member as the view holds it after the change (its status, endpoint and capabilities).</summary>
    public MeshNode Node { get; }

    /// <summary>Gets the version of this node's view after the change; it only grows.</summary>
    public long Version { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Node} (view {Version})";
}
