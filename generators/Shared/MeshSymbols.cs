using Microsoft.CodeAnalysis;

namespace Mesh.CodeAnalysis;

/// <summary>The Mesh and framework types contract extraction compares against, resolved once per compilation.</summary>
internal sealed class MeshSymbols
{
    private MeshSymbols(Compilation compilation, INamedTypeSymbol meshActorAttribute)
    {
        MeshActorAttribute = meshActorAttribute;
        MeshActor = compilation.GetTypeByMetadataName("Mesh.IMeshActor");
        OneWayAttribute = compilation.GetTypeByMetadataName("Mesh.OneWayAttribute");
        MethodAliasAttribute = compilation.GetTypeByMetadataName("Mesh.MethodAliasAttribute");
        ReentrantAttribute = compilation.GetTypeByMetadataName("Mesh.ReentrantAttribute");
        CancellationToken = compilation.GetTypeByMetadataName("System.Threading.CancellationToken");
        Task = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task");
        TaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.Task`1");
        ValueTask = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask");
        ValueTaskOfT = compilation.GetTypeByMetadataName("System.Threading.Tasks.ValueTask`1");
    }

    /// <summary>Gets <c>Mesh.MeshActorAttribute</c>.</summary>
    public INamedTypeSymbol MeshActorAttribute { get; }

    /// <summary>Gets <c>Mesh.IMeshActor</c>.</summary>
    public INamedTypeSymbol? MeshActor { get; }

    /// <summary>Gets <c>Mesh.OneWayAttribute</c>.</summary>
    public INamedTypeSymbol? OneWayAttribute { get; }

    /// <summary>Gets <c>Mesh.MethodAliasAttribute</c>.</summary>
    public INamedTypeSymbol? MethodAliasAttribute { get; }

    /// <summary>Gets <c>Mesh.ReentrantAttribute</c>.</summary>
    public INamedTypeSymbol? ReentrantAttribute { get; }

    /// <summary>Gets <c>System.Threading.CancellationToken</c>.</summary>
    public INamedTypeSymbol? CancellationToken { get; }

    /// <summary>Gets <c>System.Threading.Tasks.Task</c>.</summary>
    public INamedTypeSymbol? Task { get; }

    /// <summary>Gets <c>System.Threading.Tasks.Task&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? TaskOfT { get; }

    /// <summary>Gets <c>System.Threading.Tasks.ValueTask</c>.</summary>
    public INamedTypeSymbol? ValueTask { get; }

    /// <summary>Gets <c>System.Threading.Tasks.ValueTask&lt;T&gt;</c>.</summary>
    public INamedTypeSymbol? ValueTaskOfT { get; }

    /// <summary>Resolves the symbols, or returns <see langword="null"/> when the compilation does not reference Mesh.</summary>
    /// <param name="compilation">The compilation.</param>
    /// <returns>The symbols, or <see langword="null"/>.</returns>
    public static MeshSymbols? TryCreate(Compilation compilation)
    {
        INamedTypeSymbol? attribute = compilation.GetTypeByMetadataName("Mesh.MeshActorAttribute");
        return attribute is null ? null : new MeshSymbols(compilation, attribute);
    }

    /// <summary>Finds the <c>[MeshActor]</c> attribute on <paramref name="type"/>.</summary>
    /// <param name="type">Any type.</param>
    /// <returns>The attribute, or <see langword="null"/>.</returns>
    public AttributeData? GetMeshActorAttribute(INamedTypeSymbol type) => FindAttribute(type, MeshActorAttribute);

    /// <summary>Finds the attribute of class <paramref name="attributeClass"/> on <paramref name="symbol"/>.</summary>
    /// <param name="symbol">Any symbol.</param>
    /// <param name="attributeClass">The attribute class; <see langword="null"/> finds nothing.</param>
    /// <returns>The attribute, or <see langword="null"/>.</returns>
    public static AttributeData? FindAttribute(ISymbol symbol, INamedTypeSymbol? attributeClass)
    {
        if (attributeClass is null)
        {
            return null;
        }

        foreach (AttributeData attribute in symbol.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, attributeClass))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Gets the first constructor argument of <paramref name="attribute"/> when it is a string.</summary>
    /// <param name="attribute">An attribute, or <see langword="null"/>.</param>
    /// <returns>The string, or <see langword="null"/>.</returns>
    public static string? StringArgument(AttributeData? attribute)
        => attribute is not null && attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;

    /// <summary>Whether generated code in the same assembly can name <paramref name="type"/>: it and every type containing it
    /// are public or internal.</summary>
    /// <param name="type">A type.</param>
    /// <returns><see langword="true"/> when generated code can reference the type.</returns>
    public static bool IsVisibleToGeneratedCode(INamedTypeSymbol type)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="type"/> has a public instance constructor, which dependency injection can call.</summary>
    /// <param name="type">A class.</param>
    /// <returns><see langword="true"/> when one instance constructor is public.</returns>
    public static bool HasPublicConstructor(INamedTypeSymbol type)
    {
        foreach (IMethodSymbol constructor in type.InstanceConstructors)
        {
            if (constructor.DeclaredAccessibility == Accessibility.Public)
            {
                return true;
            }
        }

        return false;
    }
}
