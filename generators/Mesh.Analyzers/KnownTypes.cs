using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;

namespace Mesh.Analyzers;

/// <summary>
/// The types the analyzers look for, resolved once per compilation: the ones the generator needs too
/// (<see cref="MeshSymbols"/>, shared with it) and the awaiters only the blocking-wait rule needs.
/// </summary>
internal sealed class KnownTypes
{
    private KnownTypes(Compilation compilation, MeshSymbols symbols)
    {
        Symbols = symbols;
        TaskAwaiter = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.TaskAwaiter");
        TaskAwaiterOfT = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.TaskAwaiter`1");
        ValueTaskAwaiter = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.ValueTaskAwaiter");
        ValueTaskAwaiterOfT = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.ValueTaskAwaiter`1");
    }

    /// <summary>Gets the Mesh and task types the contract rules compare against.</summary>
    public MeshSymbols Symbols { get; }

    /// <summary>Gets <c>System.Threading.Tasks.Task</c>.</summary>
    public INamedTypeSymbol? Task => Symbols.Task;

    /// <summary>Gets <c>System.Threading.Tasks.Task&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? TaskOfT => Symbols.TaskOfT;

    /// <summary>Gets <c>System.Threading.Tasks.ValueTask&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? ValueTaskOfT => Symbols.ValueTaskOfT;

    /// <summary>Gets <c>System.Runtime.CompilerServices.TaskAwaiter</c>.</summary>
    public INamedTypeSymbol? TaskAwaiter { get; }

    /// <summary>Gets <c>System.Runtime.CompilerServices.TaskAwaiter&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? TaskAwaiterOfT { get; }

    /// <summary>Gets <c>System.Runtime.CompilerServices.ValueTaskAwaiter</c>.</summary>
    public INamedTypeSymbol? ValueTaskAwaiter { get; }

    /// <summary>Gets <c>System.Runtime.CompilerServices.ValueTaskAwaiter&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? ValueTaskAwaiterOfT { get; }

    /// <summary>Resolves the types, or returns null when the compilation does not reference Mesh.</summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>The types, or <see langword="null"/>.</returns>
    public static KnownTypes? TryCreate(Compilation compilation)
        => MeshSymbols.TryCreate(compilation) is { } symbols ? new KnownTypes(compilation, symbols) : null;

    /// <summary>Gets the [MeshActor] attribute of <paramref name="type"/>, if it has one.</summary>
    /// <param name="type">Any type.</param>
    /// <returns>The attribute, or <see langword="null"/>.</returns>
    public AttributeData? GetMeshActorAttribute(INamedTypeSymbol type) => Symbols.GetMeshActorAttribute(type);

    /// <summary>Whether <paramref name="type"/> is an interface marked [MeshActor].</summary>
    /// <param name="type">Any type.</param>
    /// <returns><see langword="true"/> for an actor contract.</returns>
    public bool IsContract(INamedTypeSymbol type) =>
        type.TypeKind == TypeKind.Interface && GetMeshActorAttribute(type) is not null;

    /// <summary>Whether <paramref name="type"/> is a class that implements at least one actor contract.</summary>
    /// <param name="type">Any type.</param>
    /// <returns><see langword="true"/> for an actor implementation class.</returns>
    public bool IsActorClass(INamedTypeSymbol type)
    {
        if (type.TypeKind != TypeKind.Class)
        {
            return false;
        }

        foreach (INamedTypeSymbol candidate in type.AllInterfaces)
        {
            if (IsContract(candidate))
            {
                return true;
            }
        }

        return false;
    }
}
