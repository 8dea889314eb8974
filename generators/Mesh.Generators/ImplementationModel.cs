namespace Mesh.Generators;

/// <summary>A class that implements an actor contract, as the registration code needs it.</summary>
/// <param name="ContractType">The contract interface, with <c>global::</c>.</param>
/// <param name="ImplementationType">The implementation class, with <c>global::</c>.</param>
/// <param name="IsReentrant">Whether the class is marked <c>[Reentrant]</c>.</param>
internal sealed record ImplementationModel(string ContractType, string ImplementationType, bool IsReentrant);
