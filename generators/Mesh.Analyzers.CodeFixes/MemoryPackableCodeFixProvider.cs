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

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticDescriptors.NotSerializable.Id];

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ContractMemberAnalyzer.TypeIdProperty, out string? typeId) || typeId is null)
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

        SyntaxTrivia endOfLine = EndOfLine(root);
        TypeDeclarationSyntax updated = declaration;
        if (!updated.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            // 'partial' goes right before the type keyword; when it is the first token it takes over the leading trivia.
            SyntaxToken partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithLeadingTrivia(SyntaxTriviaList.Empty).WithTrailingTrivia(SyntaxFactory.Space);
            updated = updated.Modifiers.Count > 0
                ? updated.WithModifiers(updated.Modifiers.Add(partial))
                : updated.WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(updated.Keyword.LeadingTrivia)))
                    .WithKeyword(updated.Keyword.WithLeadingTrivia());
        }

        if (!declaration.AttributeLists.SelectMany(static l => l.Attributes).Any(static a => a.Name.ToString() is "MemoryPackable" or "MemoryPackableAttribute" or "MemoryPack.MemoryPackable"))
        {
            // The new attribute takes the declaration's leading trivia (blank lines, documentation, indentation); the
            // line it pushes down keeps only the indentation.
            SyntaxTriviaList leading = updated.GetLeadingTrivia();
            AttributeListSyntax attribute = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(
                    SyntaxFactory.Attribute(SyntaxFactory.IdentifierName("MemoryPackable"))))
                .NormalizeWhitespace()
                .WithLeadingTrivia(leading)
                .WithTrailingTrivia(endOfLine);
            updated = updated.WithLeadingTrivia(Indentation(leading));
            updated = updated.WithAttributeLists(updated.AttributeLists.Insert(0, attribute));
        }

        SyntaxNode newRoot = root.ReplaceNode(declaration, updated);
        if (newRoot is CompilationUnitSyntax unit && !unit.Usings.Any(static u => u.Name?.ToString() == "MemoryPack"))
        {
            newRoot = unit.AddUsings(SyntaxFactory.UsingDirective(SyntaxFactory.ParseName("MemoryPack")).NormalizeWhitespace().WithTrailingTrivia(endOfLine));
        }

        return document.WithSyntaxRoot(newRoot).Project.Solution;
    }

    /// <summary>The document's own line break, so that a fix does not mix line endings. New nodes get explicit trivia
    /// throughout (no elastic trivia), so the formatter that runs after a fix leaves the surrounding lines alone.</summary>
    private static SyntaxTrivia EndOfLine(SyntaxNode root)
    {
        foreach (SyntaxTrivia trivia in root.DescendantTrivia())
        {
            if (trivia.IsKind(SyntaxKind.EndOfLineTrivia))
            {
                return trivia;
            }
        }

        return SyntaxFactory.ElasticCarriageReturnLineFeed;
    }

    /// <summary>The whitespace after the last line break of <paramref name="leading"/>: the indentation of the line.</summary>
    private static SyntaxTriviaList Indentation(SyntaxTriviaList leading)
    {
        int start = leading.Count;
        while (start > 0 && leading[start - 1].IsKind(SyntaxKind.WhitespaceTrivia))
        {
            start--;
        }

        return SyntaxFactory.TriviaList(leading.Skip(start));
    }
}
