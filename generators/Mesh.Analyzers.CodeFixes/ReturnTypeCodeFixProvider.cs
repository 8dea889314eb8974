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
/// MESH0003: wraps a synchronous return type in <c>ValueTask&lt;T&gt;</c> (<c>void</c> becomes <c>ValueTask</c>).
/// MESH0004: makes a [OneWay] method return <c>ValueTask</c>, or removes [OneWay].
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ReturnTypeCodeFixProvider)), Shared]
public sealed class ReturnTypeCodeFixProvider : CodeFixProvider
{
    internal const string WrapInValueTaskKey = "MESH0003.WrapInValueTask";
    internal const string ReturnValueTaskKey = "MESH0004.ReturnValueTask";
    internal const string RemoveOneWayKey = "MESH0004.RemoveOneWay";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        [DiagnosticDescriptors.UnsupportedReturnType.Id, DiagnosticDescriptors.OneWayReturnsValue.Id];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true)?.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (diagnostic.Id == DiagnosticDescriptors.UnsupportedReturnType.Id)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Return ValueTask",
                        ct => ReplaceReturnTypeAsync(context.Document, method, WrapInValueTask(method.ReturnType), ct),
                        WrapInValueTaskKey),
                    diagnostic);
            }
            else
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Return ValueTask",
                        ct => ReplaceReturnTypeAsync(context.Document, method, ValueTaskType(), ct),
                        ReturnValueTaskKey),
                    diagnostic);
                context.RegisterCodeFix(
                    CodeAction.Create("Remove [OneWay]", ct => RemoveOneWayAsync(context.Document, method, ct), RemoveOneWayKey),
                    diagnostic);
            }
        }
    }

    private static TypeSyntax ValueTaskType() => SyntaxFactory.ParseTypeName("ValueTask");

    private static TypeSyntax WrapInValueTask(TypeSyntax type) =>
        type is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword }
            ? ValueTaskType()
            : SyntaxFactory.GenericName(SyntaxFactory.Identifier("ValueTask"))
                .WithTypeArgumentList(SyntaxFactory.TypeArgumentList(SyntaxFactory.SingletonSeparatedList(type.WithoutTrivia())));

    private static async Task<Document> ReplaceReturnTypeAsync(Document document, MethodDeclarationSyntax method, TypeSyntax newType, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        MethodDeclarationSyntax updated = method.WithReturnType(newType.WithTriviaFrom(method.ReturnType));
        return document.WithSyntaxRoot(root.ReplaceNode(method, updated));
    }

    private static async Task<Document> RemoveOneWayAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        SemanticModel model = (await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false))!;
        MethodDeclarationSyntax updated;
        foreach (AttributeListSyntax list in method.AttributeLists)
        {
            foreach (AttributeSyntax attribute in list.Attributes)
            {
                if (model.GetTypeInfo(attribute, cancellationToken).Type?.ToDisplayString() != "Mesh.OneWayAttribute")
                {
                    continue;
                }

                updated = list.Attributes.Count == 1
                    ? RemoveAttributeList(method, method.AttributeLists.IndexOf(list))
                    : method.ReplaceNode(list, list.WithAttributes(list.Attributes.RemoveAt(list.Attributes.IndexOf(attribute))));
                return document.WithSyntaxRoot(root.ReplaceNode(method, updated));
            }
        }

        return document;
    }

    /// <summary>
    /// Removes the attribute list at <paramref name="index"/> with what follows it on its line (a space, or the line
    /// break when it stands alone), and gives the next token the list's leading trivia: its documentation comment
    /// and indentation.
    /// </summary>
    private static MethodDeclarationSyntax RemoveAttributeList(MethodDeclarationSyntax method, int index)
    {
        SyntaxTriviaList leading = method.AttributeLists[index].GetLeadingTrivia();
        MethodDeclarationSyntax updated = method.WithAttributeLists(method.AttributeLists.RemoveAt(index));
        SyntaxToken next = index < updated.AttributeLists.Count ? updated.AttributeLists[index].OpenBracketToken
            : updated.Modifiers.Count > 0 ? updated.Modifiers[0]
            : updated.ReturnType.GetFirstToken();
        return updated.ReplaceToken(next, next.WithLeadingTrivia(leading));
    }
}
