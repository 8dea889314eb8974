using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0013: two contracts with the same interface name and capability share actor ids, hence placement.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractCollisionAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.ContractNameCollision];

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

            // (interface name, capability) -> contracts declared in this compilation.
            var contracts = new ConcurrentDictionary<(string Name, string Capability), ConcurrentBag<INamedTypeSymbol>>();
            start.RegisterSymbolAction(
                context =>
                {
                    var type = (INamedTypeSymbol)context.Symbol;
                    if (type.TypeKind == TypeKind.Interface
                        && types.GetMeshActorAttribute(type) is { ConstructorArguments: { Length: 1 } arguments }
                        && arguments[0].Value is string capability)
                    {
                        contracts.GetOrAdd((type.Name, capability), static _ => []).Add(type);
                    }
                },
                SymbolKind.NamedType);
            start.RegisterCompilationEndAction(context =>
            {
                foreach (KeyValuePair<(string Name, string Capability), ConcurrentBag<INamedTypeSymbol>> entry in contracts)
                {
                    if (entry.Value.Count < 2)
                    {
                        continue;
                    }

                    List<INamedTypeSymbol> sorted = entry.Value
                        .OrderBy(static t => t.ToDisplayString(), System.StringComparer.Ordinal)
                        .ToList();
                    for (int i = 1; i < sorted.Count; i++)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(
                            DiagnosticDescriptors.ContractNameCollision,
                            sorted[i].Locations.FirstOrDefault() ?? Location.None,
                            sorted[i].ToDisplayString(),
                            sorted[0].ToDisplayString(),
                            entry.Key.Capability));
                    }
                }
            });
        });
    }
}
