namespace Mesh;

/// <summary>Base class of every exception Mesh throws for a failed actor call or cluster operation.</summary>
public class MeshException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="MeshException"/> class.</summary>
    public MeshException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MeshException"/> class.</summary>
    /// <param name="message">What went wrong and, where possible, how to fix it.</param>
    public MeshException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="MeshException"/> class.</summary>
    /// <param name="message">What went wrong and, where possible, how to fix it.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public MeshException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
