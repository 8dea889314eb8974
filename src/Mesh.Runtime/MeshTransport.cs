namespace Mesh;

/// <summary>How this node talks to the other nodes of its cluster.</summary>
public enum MeshTransport
{
    /// <summary>QUIC with mutual TLS 1.3 (the default). If the native QUIC library cannot load, the node logs why and
    /// uses <see cref="Tcp"/>.</summary>
    Quic = 0,

    /// <summary>TCP with mutual TLS 1.3.</summary>
    Tcp = 1,
}
