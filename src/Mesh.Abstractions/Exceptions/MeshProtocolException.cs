namespace Mesh;

/// <summary>
/// Thrown when a message cannot be understood: a malformed or oversized frame, an unknown method id, or a payload
/// that does not deserialize. The connection or call that carried it fails; everything else keeps working.
/// </summary>
public sealed class MeshProtocolException : MeshException
{
    /// <summary>Initializes a new instance of the <see cref="MeshProtocolException"/> class.</summary>
    /// <param name="message">What was wrong with the message.</param>
    /// <param name="innerException">The exception that revealed it, if any.</param>
    public MeshProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
