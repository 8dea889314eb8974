using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace Mesh.Infrastructure;

/// <summary>An actor implementation class found by the generator, and the contract it implements.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ActorImplementation
{
    internal ActorImplementation(
        ActorContract contract,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type implementationType,
        bool isReentrant)
    {
        Contract = contract;
        ImplementationType = implementationType;
        IsReentrant = isReentrant;
    }

    /// <summary>Gets the contract the class implements.</summary>
    public ActorContract Contract { get; }

    /// <summary>Gets the implementation class; the runtime creates it through dependency injection.</summary>
    [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)]
    public Type ImplementationType { get; }

    /// <summary>Gets a value indicating whether the class is marked <see cref="ReentrantAttribute"/>.</summary>
    public bool IsReentrant { get; }
}
