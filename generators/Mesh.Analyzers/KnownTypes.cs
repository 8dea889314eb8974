using Microsoft.CodeAnalysis;

namespace Mesh.Analyzers;

/// <summary>The Mesh and framework types the analyzers look for, resolved once per compilation.</summary>
internal sealed class KnownTypes
{
    private KnownTypes(Compilation compilation)
    {
        MeshActorAttribute = compilation.GetTypeByMetadataName("Mesh.MeshActorAttribute");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
        TaskAwaiter = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.TaskAwaiter");
        TaskAwaiterOfT = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.TaskAwaiter`1");
        ValueTaskAwaiter = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.ValueTaskAwaiter");
        ValueTaskAwaiterOfT = compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.ValueTaskAwaiter`1");
        ActorContext = compilation.GetTypeByMetadataName("Mesh.IActorContext");
    }

    public INamedTypeSymbol? MeshActorAttribute { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? TaskAwaiter { get; }

    public INamedTypeSymbol? TaskAwaiterOfT { get; }

    public INamedTypeSymbol? ValueTaskAwaiter { get; }

    public INamedTypeSymbol? ValueTaskAwaiterOfT { get; }

    public INamedTypeSymbol? ActorContext { get; }

    /// <summary>Resolves the types, or returns null when the compilation does not reference Mesh.</summary>
    public static KnownTypes? TryCreate(Compilation compilation)
    {
        var types = new KnownTypes(compilation);
        return types.MeshActorAttribute is null ? null : types;
    }

    /// <summary>Gets the [MeshActor] attribute of <paramref name="type"/>, if it has one.</summary>
    public AttributeData? GetMeshActorAttribute(ISymbol type)
    {
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, MeshActorAttribute))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="type"/> is an interface marked [MeshActor].</summary>
    public bool IsContract(INamedTypeSymbol type) =>
        type.TypeKind == TypeKind.Interface && GetMeshActorAttribute(type) is not null;

    /// <summary>Whether <paramref name="type"/> is a class that implements at least one actor contract.</summary>
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
