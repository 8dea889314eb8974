using System.Collections.Immutable;
using System.Threading;
using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0001 and MESH0002: [MeshActor] must sit on an interface and name a valid capability.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.NotAnInterface, DiagnosticDescriptors.InvalidCapability];

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
