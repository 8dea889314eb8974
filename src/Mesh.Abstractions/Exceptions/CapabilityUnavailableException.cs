namespace Mesh;

/// <summary>
/// Thrown at once when no node in the cluster, this one included, has the capability an actor call needs.
/// </summary>
public sealed class CapabilityUnavailableException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="CapabilityUnavailableException"/> class.</summary>
    /// <param name="capability">The capability no node has.</param>
    public CapabilityUnavailableException(string capability)
        : base($"No node has the capability '{capability}'. Add it with AddMesh(mesh => mesh.WithCapabilities(\"{capability}\")) or IMesh.RegisterCapabilitiesAsync on a node that hosts the actor.")
    {
        Capability = capability;
    }

    /// <summary>Gets the capability no node has.</summary>
    public string Capability { get; }
}
