using System.Collections.Generic;
using System.Text;

namespace Mesh.CodeAnalysis;

/// <summary>
/// Computes the stable wire id of an actor method (see docs/generated-code.md, "Method ids").
/// </summary>
/// <remarks>
/// The id is the 32-bit FNV-1a hash of the UTF-8 text <c>Name(T1,T2,...)</c>: the method name and the parameter
/// types as <see cref="Microsoft.CodeAnalysis.SymbolDisplayFormat.FullyQualifiedFormat"/> prints them, without
/// <c>global::</c>, without nullable reference annotations and without the trailing <c>CancellationToken</c>; or
/// the hash of the <c>[MethodAlias]</c> text when the method has one. So the id changes when the method is renamed
/// or a parameter type changes (including adding or removing a parameter), and stays the same when a parameter is
/// renamed, a reference type's nullability changes, the return type or a default value changes, or the method
/// moves within the interface. An alias pins the id whatever else changes.
/// </remarks>
internal static class MethodIds
{
    private const uint OffsetBasis = 2166136261;
    private const uint Prime = 16777619;

    /// <summary>Builds the text hashed for a method without an alias.</summary>
    /// <param name="name">The method name.</param>
    /// <param name="parameterTypes">The parameter types, fully qualified without <c>global::</c>.</param>
    /// <returns>The signature text, for example <c>IncrementAsync(int)</c>.</returns>
    public static string SignatureText(string name, IEnumerable<string> parameterTypes)
        => name + "(" + string.Join(",", parameterTypes) + ")";

    /// <summary>Hashes <paramref name="text"/> with 32-bit FNV-1a over its UTF-8 bytes.</summary>
    /// <param name="text">A signature text or an alias.</param>
    /// <returns>The method id.</returns>
    public static uint Hash(string text)
    {
        uint hash = OffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= Prime;
        }

        return hash;
    }
}
