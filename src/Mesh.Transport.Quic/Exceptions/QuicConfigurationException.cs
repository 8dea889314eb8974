using Mesh.Transport.Quic.Interop;

namespace Mesh.Transport.Quic;

/// <summary>The certificates, key, CA or limits of a <see cref="QuicEndpointOptions"/> cannot be used.</summary>
internal sealed class QuicConfigurationException(string message)
    : QuicTransportException(QuicStatus.InvalidConfig, 0, message);
