using Mesh.CodeAnalysis;

namespace Mesh.Generators;

/// <summary>Everything the per-assembly registration file needs.</summary>
/// <param name="AssemblyName">The compilation's assembly name.</param>
/// <param name="Contracts">The contracts' registration classes, with <c>global::</c>.</param>
/// <param name="Implementations">The implementation classes.</param>
/// <param name="ReferencedRegistrations">Registration classes of referenced assemblies, registered first so that their
/// implementations are known even before anything else loads those assemblies.</param>
internal sealed record RegistrationModel(
    string AssemblyName,
    EquatableArray<string> Contracts,
    EquatableArray<ImplementationModel> Implementations,
    EquatableArray<string> ReferencedRegistrations)
{
    /// <summary>Gets whether there is anything to register.</summary>
    public bool HasContent => Contracts.Count > 0 || Implementations.Count > 0 || ReferencedRegistrations.Count > 0;
}
