using Microsoft.CodeAnalysis;

namespace Mesh.CodeAnalysis;

/// <summary>Decides whether MemoryPack can serialize a type without help: the rule behind MESH0005.</summary>
internal static class Serializability
{
    /// <summary>Finds the part of <paramref name="type"/> MemoryPack cannot serialize.</summary>
    /// <param name="type">A parameter or result type.</param>
    /// <returns><see langword="null"/> when the whole type is serializable; otherwise the offending type, possibly a type argument or element type of <paramref name="type"/>.</returns>
    public static ITypeSymbol? FindUnserializable(ITypeSymbol type) => Find(type, depth: 0);

    private static ITypeSymbol? Find(ITypeSymbol type, int depth)
    {
        if (depth > 16)
        {
            return null;
        }

        switch (type)
        {
            case IArrayTypeSymbol array:
                return array.Rank <= 4 ? Find(array.ElementType, depth + 1) : type;
            case ITypeParameterSymbol or IPointerTypeSymbol or IFunctionPointerTypeSymbol or IDynamicTypeSymbol or IErrorTypeSymbol:
                return type;
            case INamedTypeSymbol named:
                return FindInNamed(named, depth);
            default:
                return type;
        }
    }

    private static ITypeSymbol? FindInNamed(INamedTypeSymbol type, int depth)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean:
            case SpecialType.System_Char:
            case SpecialType.System_SByte:
            case SpecialType.System_Byte:
            case SpecialType.System_Int16:
            case SpecialType.System_UInt16:
            case SpecialType.System_Int32:
            case SpecialType.System_UInt32:
            case SpecialType.System_Int64:
            case SpecialType.System_UInt64:
            case SpecialType.System_Single:
            case SpecialType.System_Double:
            case SpecialType.System_Decimal:
            case SpecialType.System_String:
            case SpecialType.System_DateTime:
                return null;
            case SpecialType.System_Object:
                return type;
        }

        if (type.TypeKind == TypeKind.Enum)
        {
            return null;
        }

        if (type.IsRefLikeType || type.TypeKind is TypeKind.Delegate or TypeKind.Interface && !IsKnownGeneric(type))
        {
            return type;
        }

        if (HasMemoryPackable(type))
        {
            return FindInArguments(type, depth);
        }

        if (IsKnownGeneric(type))
        {
            return FindInArguments(type, depth);
        }

        if (IsKnownNonGeneric(type))
        {
            return null;
        }

        // MemoryPack copies any struct without references as raw bytes.
        if (type.IsValueType && type.IsUnmanagedType)
        {
            return null;
        }

        return type;
    }

    private static ITypeSymbol? FindInArguments(INamedTypeSymbol type, int depth)
    {
        foreach (ITypeSymbol argument in type.TypeArguments)
        {
            if (Find(argument, depth + 1) is { } bad)
            {
                return bad;
            }
        }

        return null;
    }

    private static bool HasMemoryPackable(INamedTypeSymbol type)
    {
        foreach (AttributeData attribute in type.OriginalDefinition.GetAttributes())
        {
            if (attribute.AttributeClass is { Name: "MemoryPackableAttribute", ContainingNamespace: { Name: "MemoryPack", ContainingNamespace.IsGlobalNamespace: true } })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKnownNonGeneric(INamedTypeSymbol type)
    {
        string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return name is "global::System.Guid" or "global::System.DateTimeOffset" or "global::System.TimeSpan"
            or "global::System.DateOnly" or "global::System.TimeOnly" or "global::System.Half" or "global::System.Int128"
            or "global::System.UInt128" or "global::System.Version" or "global::System.Uri"
            or "global::System.Numerics.BigInteger" or "global::System.Numerics.Complex" or "global::System.Text.StringBuilder"
            or "global::System.Collections.BitArray" or "global::System.Globalization.CultureInfo" or "global::System.Type";
    }

    private static bool IsKnownGeneric(INamedTypeSymbol type)
    {
        if (type.IsTupleType)
        {
            // (int, string) displays as tuple syntax, not as System.ValueTuple<...>; MemoryPack serializes it.
            return true;
        }

        if (!type.IsGenericType)
        {
            return false;
        }

        string name = type.OriginalDefinition.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        int angle = name.IndexOf('<');
        string open = angle < 0 ? name : name.Substring(0, angle);
        switch (open)
        {
            case "global::System.Nullable":
            case "global::System.Memory":
            case "global::System.ReadOnlyMemory":
            case "global::System.ArraySegment":
            case "global::System.Lazy":
            case "global::System.Tuple":
            case "global::System.ValueTuple":
            case "global::System.Collections.Generic.KeyValuePair":
            case "global::System.Collections.Generic.List":
            case "global::System.Collections.Generic.Dictionary":
            case "global::System.Collections.Generic.HashSet":
            case "global::System.Collections.Generic.SortedSet":
            case "global::System.Collections.Generic.SortedDictionary":
            case "global::System.Collections.Generic.SortedList":
            case "global::System.Collections.Generic.Queue":
            case "global::System.Collections.Generic.Stack":
            case "global::System.Collections.Generic.LinkedList":
            case "global::System.Collections.Generic.PriorityQueue":
            case "global::System.Collections.Generic.IEnumerable":
            case "global::System.Collections.Generic.ICollection":
            case "global::System.Collections.Generic.IReadOnlyCollection":
            case "global::System.Collections.Generic.IList":
            case "global::System.Collections.Generic.IReadOnlyList":
            case "global::System.Collections.Generic.IDictionary":
            case "global::System.Collections.Generic.IReadOnlyDictionary":
            case "global::System.Collections.Generic.ISet":
            case "global::System.Collections.Generic.IReadOnlySet":
            case "global::System.Linq.ILookup":
            case "global::System.Linq.IGrouping":
            case "global::System.Collections.ObjectModel.ReadOnlyCollection":
            case "global::System.Collections.ObjectModel.ObservableCollection":
            case "global::System.Collections.ObjectModel.ReadOnlyObservableCollection":
            case "global::System.Collections.ObjectModel.ReadOnlyDictionary":
            case "global::System.Collections.Concurrent.ConcurrentDictionary":
            case "global::System.Collections.Concurrent.ConcurrentQueue":
            case "global::System.Collections.Concurrent.ConcurrentStack":
            case "global::System.Collections.Concurrent.ConcurrentBag":
            case "global::System.Collections.Concurrent.BlockingCollection":
            case "global::System.Collections.Immutable.ImmutableArray":
            case "global::System.Collections.Immutable.ImmutableList":
            case "global::System.Collections.Immutable.ImmutableQueue":
            case "global::System.Collections.Immutable.ImmutableStack":
            case "global::System.Collections.Immutable.ImmutableHashSet":
            case "global::System.Collections.Immutable.ImmutableSortedSet":
            case "global::System.Collections.Immutable.ImmutableDictionary":
            case "global::System.Collections.Immutable.ImmutableSortedDictionary":
            case "global::System.Collections.Immutable.IImmutableList":
            case "global::System.Collections.Immutable.IImmutableQueue":
            case "global::System.Collections.Immutable.IImmutableStack":
            case "global::System.Collections.Immutable.IImmutableSet":
            case "global::System.Collections.Immutable.IImmutableDictionary":
                return true;
            default:
                return false;
        }
    }
}
