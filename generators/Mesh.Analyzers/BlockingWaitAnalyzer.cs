using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Mesh.Analyzers;

/// <summary>
/// MESH0012: <c>.Result</c>, <c>.Wait()</c> and <c>GetAwaiter().GetResult()</c> inside an actor class block the
/// actor's turn; when the awaited work needs the same actor, the turn never ends.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BlockingWaitAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.BlockingWait];

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

            start.RegisterOperationAction(context => AnalyzeProperty(context, types), OperationKind.PropertyReference);
            start.RegisterOperationAction(context => AnalyzeInvocation(context, types), OperationKind.Invocation);
        });
    }

    /// <summary>Whether <paramref name="operation"/> blocks on a task, and which task expression it blocks on.</summary>
    internal static bool IsBlocking(IOperation operation, KnownTypes types, out IOperation? task)
    {
        task = null;
        switch (operation)
        {
            case IPropertyReferenceOperation { Property.Name: "Result", Instance: { } instance } property
                when Is(property.Property.ContainingType, types.TaskOfT) || Is(property.Property.ContainingType, types.ValueTaskOfT):
                task = instance;
                return true;

            case IInvocationOperation { TargetMethod.Name: "Wait", Instance: { } instance } wait
                when Is(wait.TargetMethod.ContainingType, types.Task):
                task = instance;
                return true;

            case IInvocationOperation { TargetMethod.Name: "GetResult", Instance: IInvocationOperation { TargetMethod.Name: "GetAwaiter", Instance: { } instance } } getResult
                when Is(getResult.TargetMethod.ContainingType, types.TaskAwaiter) || Is(getResult.TargetMethod.ContainingType, types.TaskAwaiterOfT)
                    || Is(getResult.TargetMethod.ContainingType, types.ValueTaskAwaiter) || Is(getResult.TargetMethod.ContainingType, types.ValueTaskAwaiterOfT):
                task = instance;
                return true;

            default:
                return false;
        }
    }

    private static bool Is(INamedTypeSymbol? type, INamedTypeSymbol? expected) =>
        expected is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, expected);

    private static void AnalyzeProperty(OperationAnalysisContext context, KnownTypes types) => Report(context, types);

    private static void AnalyzeInvocation(OperationAnalysisContext context, KnownTypes types) => Report(context, types);

    private static void Report(OperationAnalysisContext context, KnownTypes types)
    {
        if (!IsBlocking(context.Operation, types, out _) || !IsInActorClass(context.ContainingSymbol, types))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.BlockingWait, context.Operation.Syntax.GetLocation(), context.Operation.Syntax.ToString()));
    }

    private static bool IsInActorClass(ISymbol? symbol, KnownTypes types)
    {
        for (INamedTypeSymbol? type = symbol?.ContainingType ?? symbol as INamedTypeSymbol; type is not null; type = type.ContainingType)
        {
            if (types.IsActorClass(type))
            {
                return true;
            }
        }

        return false;
    }
}
