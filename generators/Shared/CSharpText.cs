using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Mesh.CodeAnalysis;

/// <summary>How contract extraction prints types, identifiers and default values as C# source text.</summary>
internal static class CSharpText
{
    /// <summary>Fully qualified with <c>global::</c>, keeping nullable reference annotations: for generated signatures.</summary>
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Prints <paramref name="type"/> for generated code.</summary>
    /// <param name="type">The type.</param>
    /// <returns>The type, fully qualified, with nullable annotations.</returns>
    public static string Type(ITypeSymbol type) => type.ToDisplayString(TypeFormat);

    /// <summary>Prints <paramref name="type"/> the way it enters a method id.</summary>
    /// <param name="type">The type.</param>
    /// <returns><see cref="SymbolDisplayFormat.FullyQualifiedFormat"/> without <c>global::</c>.</returns>
    public static string IdType(ITypeSymbol type)
        => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty);

    /// <summary>Escapes <paramref name="name"/> with <c>@</c> when it is a reserved keyword.</summary>
    /// <param name="name">An identifier as symbols spell it.</param>
    /// <returns>An identifier usable in source.</returns>
    public static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None ? name : "@" + name;

    /// <summary>Returns whether <paramref name="type"/> is a reference type that is not annotated nullable.</summary>
    /// <param name="type">The type.</param>
    /// <returns><see langword="true"/> when reading it from a nullable-returning API needs <c>!</c>.</returns>
    public static bool IsNonNullableReference(ITypeSymbol type)
        => !type.IsValueType && type.NullableAnnotation != NullableAnnotation.Annotated;

    /// <summary>Prints the default value of <paramref name="parameter"/> as an expression of the parameter's type.</summary>
    /// <param name="parameter">The parameter.</param>
    /// <returns>The expression, or <see langword="null"/> when the parameter has no default value.</returns>
    public static string? DefaultValue(IParameterSymbol parameter)
    {
        if (!parameter.HasExplicitDefaultValue)
        {
            return null;
        }

        ITypeSymbol type = parameter.Type;
        object? value = parameter.ExplicitDefaultValue;
        if (value is null)
        {
            return type.IsValueType && type.OriginalDefinition.SpecialType != SpecialType.System_Nullable_T ? "default" : "null";
        }

        ITypeSymbol valueType = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : type;
        if (valueType.TypeKind == TypeKind.Enum)
        {
            string number = Primitive(value);
            return "(" + Type(valueType) + ")" + (number.StartsWith("-", StringComparison.Ordinal) ? "(" + number + ")" : number);
        }

        return Primitive(value);
    }

    private static string Primitive(object value) => value switch
    {
        string s => SymbolDisplay.FormatLiteral(s, quote: true),
        char c => SymbolDisplay.FormatLiteral(c, quote: true),
        bool b => b ? "true" : "false",
        float f when float.IsNaN(f) => "float.NaN",
        float f when float.IsPositiveInfinity(f) => "float.PositiveInfinity",
        float f when float.IsNegativeInfinity(f) => "float.NegativeInfinity",
        float f => f.ToString("R", CultureInfo.InvariantCulture) + "F",
        double d when double.IsNaN(d) => "double.NaN",
        double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
        double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
        double d => d.ToString("R", CultureInfo.InvariantCulture) + "D",
        decimal m => m.ToString(CultureInfo.InvariantCulture) + "M",
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        ulong ul => ul.ToString(CultureInfo.InvariantCulture) + "UL",
        uint ui => ui.ToString(CultureInfo.InvariantCulture) + "U",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => "default",
    };
}
