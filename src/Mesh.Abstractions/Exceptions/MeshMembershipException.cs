namespace Mesh;

/// <summary>
/// Thrown when this node cannot become a member of the cluster: a node it joined through refused it because a
/// setting that every node must share differs (the cluster name, the shard count or the membership protocol version).
/// <see cref="Setting"/> names the setting; the message gives both values and how to fix it.
/// </summary>
/// <example>
/// Two nodes configured with <c>Mesh:ClusterName</c> <c>orders</c> and <c>billing</c>: the second one's host fails to
/// start with "The cluster refused this node: ClusterName is 'billing' here but 'orders' in the cluster...".
/// </example>
public sealed class MeshMembershipException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="MeshMembershipException"/> class.</summary>
    /// <param name="setting">The setting that differs, such as <c>ClusterName</c> or <c>ShardCount</c>.</param>
    /// <param name="message">What differs and how to fix it.</param>
    public MeshMembershipException(string setting, string message)
        : base(message)
    {
        Setting = setting;
    }

    /// <summary>Gets the name of the setting that differs between this node and the cluster, such as
    /// <c>ClusterName</c>, <c>ShardCount</c> or <c>ProtocolVersion</c>.</summary>
    public string Setting { get; }
}
