using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0003 to MESH0009: what the members of an actor contract may look like. The rules are the generator's own
/// (<see cref="ContractExtractor"/>, linked from generators/Shared): every contract the generator skips is one this
/// analyzer reports, with the reason.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractMemberAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The diagnostic property MESH0005 carries for its code fix: the documentation id of the type to make serializable.</summary>
    internal const string TypeIdProperty = "TypeId";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.UnsupportedReturnType,
        DiagnosticDescriptors.OneWayReturnsValue,
        DiagnosticDescriptors.NotSerializable,
        DiagnosticDescriptors.UnsupportedParameter,
        DiagnosticDescriptors.UnsupportedMember,
        DiagnosticDescriptors.CancellationTokenPosition,
        DiagnosticDescriptors.DuplicateMethodId,
    ];

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            if (MeshSymbols.TryCreate(start.Compilation) is not { } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(context => Analyze(context, symbols), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, MeshSymbols symbols)
    {
        var contract = (INamedTypeSymbol)context.Symbol;
        if (contract.TypeKind != TypeKind.Interface || symbols.GetMeshActorAttribute(contract) is null)
        {
            return;
        }

        var problems = new List<ContractProblem>();
        ContractExtractor.Extract(contract, symbols, problems);
        foreach (ContractProblem problem in problems)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            context.ReportDiagnostic(ToDiagnostic(problem, contract, Place(problem.Location, contract)));
        }
    }

    /// <summary>
    /// Where to report: at the problem when it lies inside this contract's declaration; otherwise (a member inherited
    /// from another interface, in another file or in metadata) at the contract's name, where the developer who
    /// declared this contract can act, and where one file's analysis in the IDE can show it.
    /// </summary>
    private static Location Place(Location location, INamedTypeSymbol contract)
    {
        if (location.IsInSource)
        {
            foreach (SyntaxReference reference in contract.DeclaringSyntaxReferences)
            {
                if (reference.SyntaxTree == location.SourceTree && reference.Span.Contains(location.SourceSpan))
                {
                    return location;
                }
            }
        }

        return contract.Locations.FirstOrDefault(static l => l.IsInSource) ?? Location.None;
    }

    private static Diagnostic ToDiagnostic(ContractProblem problem, INamedTypeSymbol contract, Location location)
    {
        string detail = problem.Detail ?? string.Empty;
        switch (problem.Kind)
        {
            case ContractProblemKind.UnsupportedReturnType:
                return Diagnostic.Create(
                    DiagnosticDescriptors.UnsupportedReturnType, location, problem.Subject, detail, detail == "void" ? "ValueTask" : "ValueTask<" + detail + ">");

            case ContractProblemKind.OneWayWithResult:
                return Diagnostic.Create(DiagnosticDescriptors.OneWayReturnsValue, location, problem.Subject, detail);

            case ContractProblemKind.NotSerializable:
                string subject = problem.Method is null
                    ? "The result of actor method '" + problem.Subject + "'"
                    : "Parameter '" + problem.Subject + "' of actor method '" + problem.Method + "'";
                string remedy = problem.TypeId is null
                    ? "use a [MemoryPackable] type or one MemoryPack supports"
                    : "mark '" + detail + "' [MemoryPackable] and partial";
                ImmutableDictionary<string, string?> properties = problem.TypeId is null
                    ? ImmutableDictionary<string, string?>.Empty
                    : ImmutableDictionary<string, string?>.Empty.Add(TypeIdProperty, problem.TypeId);
                return Diagnostic.Create(DiagnosticDescriptors.NotSerializable, location, properties, subject, detail, remedy);

            case ContractProblemKind.UnsupportedParameter:
                return Diagnostic.Create(DiagnosticDescriptors.UnsupportedParameter, location, problem.Subject, problem.Method, detail);

            case ContractProblemKind.UnsupportedMember:
                return Diagnostic.Create(DiagnosticDescriptors.UnsupportedMember, location, problem.Subject, WithArticle(detail));

            case ContractProblemKind.CancellationTokenPosition:
                return Diagnostic.Create(DiagnosticDescriptors.CancellationTokenPosition, location, problem.Subject, problem.Method, detail);

            case ContractProblemKind.MethodIdCollision:
            default:
                return Diagnostic.Create(DiagnosticDescriptors.DuplicateMethodId, location, problem.Subject, detail, contract.Name);
        }
    }

    private static string WithArticle(string noun)
        => (noun.Length > 0 && "aeiou".IndexOf(noun[0]) >= 0 ? "an " : "a ") + noun;
}
