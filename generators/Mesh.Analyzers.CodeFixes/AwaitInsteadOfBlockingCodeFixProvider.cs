using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Mesh.Analyzers.CodeFixes;

/// <summary>
/// MESH0012: replaces <c>t.Result</c>, <c>t.Wait()</c> and <c>t.GetAwaiter().GetResult()</c> with <c>await t</c>.
/// Offered inside async methods, lambdas and local functions only: elsewhere making the method async changes
/// its return statements too, which is the developer's call.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AwaitInsteadOfBlockingCodeFixProvider)), Shared]
public sealed class AwaitInsteadOfBlockingCodeFixProvider : CodeFixProvider
{
    internal const string Key = "MESH0012.Await";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.BlockingWait.Id];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not ExpressionSyntax blocking
            || TaskOf(blocking) is null
            || !IsInAsyncCode(blocking))
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(CodeAction.Create("Use await", ct => FixAsync(context.Document, blocking, ct), Key), diagnostic);
        }
    }

    /// <summary>The task expression a blocking access waits on: <c>t</c> in <c>t.Result</c>, <c>t.Wait()</c>, <c>t.GetAwaiter().GetResult()</c>.</summary>
    private static ExpressionSyntax? TaskOf(ExpressionSyntax blocking) => blocking switch
    {
        MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Result" } result => result.Expression,
        InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "Wait" } wait } => wait.Expression,
        InvocationExpressionSyntax
        {
            Expression: MemberAccessExpressionSyntax
            {
                Name.Identifier.ValueText: "GetResult",
                Expression: InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax { Name.Identifier.ValueText: "GetAwaiter" } awaiter },
            },
        } => awaiter.Expression,
        _ => null,
    };

    private static bool IsInAsyncCode(SyntaxNode node)
    {
        foreach (SyntaxNode ancestor in node.Ancestors())
        {
            switch (ancestor)
            {
                case AnonymousFunctionExpressionSyntax lambda:
                    return lambda.AsyncKeyword.IsKind(SyntaxKind.AsyncKeyword);
                case LocalFunctionStatementSyntax local:
                    return local.Modifiers.Any(SyntaxKind.AsyncKeyword);
                case MethodDeclarationSyntax method:
                    return method.Modifiers.Any(SyntaxKind.AsyncKeyword);
                case MemberDeclarationSyntax:
                    return false;
            }
        }

        return false;
    }

    private static async Task<Document> FixAsync(Document document, ExpressionSyntax blocking, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        ExpressionSyntax task = TaskOf(blocking)!;
        ExpressionSyntax awaited = SyntaxFactory.AwaitExpression(task.WithoutTrivia());
        if (NeedsParentheses(blocking))
        {
            awaited = SyntaxFactory.ParenthesizedExpression(awaited);
        }

        return document.WithSyntaxRoot(root.ReplaceNode(blocking, awaited.WithTriviaFrom(blocking)));
    }

    private static bool NeedsParentheses(ExpressionSyntax expression) => expression.Parent switch
    {
        ExpressionStatementSyntax or ArgumentSyntax or EqualsValueClauseSyntax or ReturnStatementSyntax
            or ArrowExpressionClauseSyntax or ParenthesizedExpressionSyntax or InterpolationSyntax => false,
        AssignmentExpressionSyntax assignment => assignment.Left == expression,
        BinaryExpressionSyntax => false,
        _ => true,
    };
}
