using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Mesh.Analyzers.CodeFixes;

/// <summary>MESH0005: adds <c>[MemoryPackable]</c> and <c>partial</c> to a type declared in source.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MemoryPackableCodeFixProvider)), Shared]
public sealed class MemoryPackableCodeFixProvider : CodeFixProvider
{
    internal const string Key = "MESH0005.AddMemoryPackable";

    /// <summary>The diagnostic property that carries the documentation id of the type to fix.</summary>
    internal const string TypeIdProperty = "TypeId";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.NotSerializable.Id];

    /// <inheritdoc/>
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(TypeIdProperty, out string? typeId) || typeId is null)
            {
                continue;
            }

            Compilation? compilation = await context.Document.Project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
            if (compilation is null
                || DocumentationCommentId.GetFirstSymbolForDeclarationId(typeId, compilation) is not INamedTypeSymbol type
                || type.DeclaringSyntaxReferences.Length == 0)
            {
                continue;
            }

            SyntaxReference reference = type.DeclaringSyntaxReferences[0];
            Document? target = context.Document.Project.Solution.GetDocument(reference.SyntaxTree);
            if (target is null)
            {
                continue;
            }

            context.RegisterCodeFix(
                CodeAction.Create(
                    $"Make '{type.Name}' [MemoryPackable] and partial",
                    ct => AddMemoryPackableAsync(target, reference, ct),
                    Key),
                diagnostic);
        }
    }

    private static async Task<Solution> AddMemoryPackableAsync(Document document, SyntaxReference reference, CancellationToken cancellationToken)
    {
        SyntaxNode root = (await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false))!;
        if (root.FindNode(reference.Span) is not TypeDeclarationSyntax declaration)
        {
            return document.Project.Solution;
        }

        TypeDeclarationSyntax updated = declaration;
        if (!declaration.AttributeLists.SelectMany(static l => l.Attributes).Any(static a => a.Name.ToString() is "MemoryPackable" or "MemoryPackableAttribute" or "MemoryPack.MemoryPackable"))
        {
            AttributeListSyntax attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
                SyntaxFactory.Attribute(SyntaxFactory.ParseName("MemoryPackable"))));
            SyntaxTriviaList leading = declaration.GetLeadingTrivia();
            updated = updated.WithoutLeadingTrivia()
                .WithAttributeLists(updated.AttributeLists.Insert(0, attribute.WithLeadingTrivia(leading).WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed)));
            if (declaration.AttributeLists.Count > 0)
            {
                updated = updated.WithAttributeLists(updated.AttributeLists.Replace(updated.AttributeLists[1], updated.AttributeLists[1].WithLeadingTrivia(leading.Where(static t => t.IsKind(SyntaxKind.WhitespaceTrivia)))));
            }
        }

        if (!updated.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            updated = updated.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space));
        }

        SyntaxNode newRoot = root.ReplaceNode(declaration, updated);
        if (newRoot is CompilationUnitSyntax unit && !unit.Usings.Any(static u => u.Name?.ToString() == "MemoryPack"))
        {
            newRoot = unit.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.ParseName("MemoryPack")).WithTrailingTrivia(SyntaxFactory.ElasticCarriageReturnLineFeed));
        }

        return document.WithSyntaxRoot(newRoot).Project.Solution;
    }
}
