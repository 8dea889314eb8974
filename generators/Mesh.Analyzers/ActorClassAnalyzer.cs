using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0010, MESH0011 and MESH0014: what the runtime needs of the classes that implement actor contracts.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ActorClassAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.DuplicateImplementation, DiagnosticDescriptors.NotActivatable, DiagnosticDescriptors.MutableStaticState];

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

            // Contract -> the classes implementing it; filled concurrently by symbol actions, read once at the end.
            var implementations = new ConcurrentDictionary<INamedTypeSymbol, ConcurrentBag<INamedTypeSymbol>>(SymbolEqualityComparer.Default);
            start.RegisterSymbolAction(context => AnalyzeClass(context, types, implementations), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(context => ReportDuplicates(context, implementations));
        });
    }

    private static void AnalyzeClass(
        SymbolAnalysisContext context,
        KnownTypes types,
        ConcurrentDictionary<INamedTypeSymbol, ConcurrentBag<INamedTypeSymbol>> implementations)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (!types.IsActorClass(type))
        {
            return;
        }

        // Every concrete class implementing a contract is one the generator registers, so two of them (a
        // derived actor class included) are a duplicate the runtime would refuse at start.
        foreach (INamedTypeSymbol contract in type.AllInterfaces)
        {
            if (types.IsContract(contract) && !type.IsAbstract && !type.IsGenericType)
            {
                implementations.GetOrAdd(contract, static _ => []).Add(type);
            }
        }

        Location location = type.Locations.FirstOrDefault() ?? Location.None;
        string? problem = type.IsAbstract ? "is abstract"
            : type.IsGenericType ? "is an open generic type"
            : !MeshSymbols.HasPublicConstructor(type) ? "has no public constructor"
            : !MeshSymbols.IsVisibleToGeneratedCode(type) ? "is private or nested in a private type"
            : null;
        if (problem is not null)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NotActivatable, location, type.Name, problem));
        }

        foreach (ISymbol member in type.GetMembers())
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (IsMutableStatic(member))
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.MutableStaticState, member.Locations.FirstOrDefault() ?? location, type.Name, member.Name));
            }
        }
    }


    private static bool IsMutableStatic(ISymbol member) => member switch
    {
        IFieldSymbol field => field.IsStatic && !field.IsConst && !field.IsReadOnly && !field.IsImplicitlyDeclared,
        IPropertySymbol property => property.IsStatic && property.SetMethod is not null && !property.SetMethod.IsInitOnly,
        _ => false,
    };

    private static void ReportDuplicates(
        CompilationAnalysisContext context,
        ConcurrentDictionary<INamedTypeSymbol, ConcurrentBag<INamedTypeSymbol>> implementations)
    {
        foreach (KeyValuePair<INamedTypeSymbol, ConcurrentBag<INamedTypeSymbol>> entry in implementations)
        {
            if (entry.Value.Count < 2)
            {
                continue;
            }

            // Deterministic order: the first class by name is the one kept; every other one is reported.
            List<INamedTypeSymbol> classes = entry.Value
                .Distinct<INamedTypeSymbol>(SymbolEqualityComparer.Default)
                .OrderBy(static c => c.ToDisplayString(), System.StringComparer.Ordinal)
                .ToList();
            for (int i = 1; i < classes.Count; i++)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.DuplicateImplementation,
                    classes[i].Locations.FirstOrDefault() ?? Location.None,
                    classes[i].Name,
                    classes[0].Name,
                    entry.Key.Name));
            }
        }
    }
}
