using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0001, MESH0002 and MESH0015: [MeshActor] must sit on a non-generic interface generated code can see, and name a
/// valid capability.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.NotAnInterface, DiagnosticDescriptors.InvalidCapability, DiagnosticDescriptors.ContractNotGeneratable];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            KnownTypes? types = KnownTypes.TryCreate(start.Compilation);
            if (types is null)
            {
                return;
            }

            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, types), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, KnownTypes types)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? attribute = types.GetMeshActorAttribute(type);
        if (attribute?.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) is not AttributeSyntax syntax)
        {
            return;
        }

        if (type.TypeKind != TypeKind.Interface)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotAnInterface, syntax.GetLocation(), type.Name));
        }
        else if (type.IsGenericType || !MeshSymbols.IsVisibleToGeneratedCode(type))
        {
            string problem = type.IsGenericType ? "is generic" : "is private or nested in a private type";
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.ContractNotGeneratable, type.Locations.FirstOrDefault() ?? syntax.GetLocation(), type.Name, problem));
        }

        string? capability = MeshSymbols.StringArgument(attribute);
        if (!CapabilityName.IsValid(capability))
        {
            Location location = syntax.ArgumentList is { Arguments.Count: > 0 } arguments
                ? arguments.Arguments[0].GetLocation()
                : syntax.GetLocation();
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidCapability, location, capability ?? string.Empty));
        }
    }
}
