namespace Mesh;

/// <summary>
/// A member of the cluster as one node's view describes it. Instances are immutable snapshots: a change of status or
/// capabilities produces a new instance.
/// </summary>
public sealed class MeshNode : IEquatable<MeshNode>
{
    /// <summary>Initializes a new instance of the <see cref="MeshNode"/> class.</summary>
    /// <param name="name">The node's name, unique in the cluster.</param>
    /// <param name="incarnation">Distinguishes runs of a node with the same name: a restarted node is a new member.</param>
    /// <param name="endpoint">The <c>host:port</c> other nodes reach it on, or <see langword="null"/> when it does not listen.</param>
    /// <param name="capabilities">The capabilities it serves.</param>
    /// <param name="status">What the view says about it.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public MeshNode(string name, long incarnation, string? endpoint, IReadOnlySet<string> capabilities, MeshNodeStatus status)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(capabilities);
        Name = name;
        Incarnation = incarnation;
        Endpoint = endpoint;
        Capabilities = capabilities;
        Status = status;
    }

    /// <summary>Gets the node's name, unique in the cluster.</summary>
    public string Name { get; }

    /// <summary>Gets the incarnation that, with <see cref="Name"/>, identifies one run of the node.</summary>
    public long Incarnation { get; }

    /// <summary>Gets the <c>host:port</c> other nodes reach this node on, or <see langword="null"/> when it does not listen.</summary>
    public string? Endpoint { get; }

    /// <summary>Gets the capabilities the node serves.</summary>
    public IReadOnlySet<string> Capabilities { get; }

    /// <summary>Gets what the view says about the node.</summary>
    public MeshNodeStatus Status { get; }

    /// <summary>Whether two instances describe the same run of a node (same <see cref="Name"/> and
    /// <see cref="Incarnation"/>), whatever their status or capabilities.</summary>
    /// <param name="other">The other node.</param>
    /// <returns><see langword="true"/> for the same run of the same node.</returns>
    public bool Equals(MeshNode? other) => other is not null && other.Incarnation == Incarnation && string.Equals(other.Name, Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as MeshNode);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StringComparer.Ordinal.GetHashCode(Name), Incarnation);

    /// <summary>Returns <c>name#incarnation@endpoint (status)</c>.</summary>
    /// <returns>A description for logs.</returns>
    public override string ToString() => $"{Name}#{Incarnation}@{Endpoint ?? "-"} ({Status})";
}
