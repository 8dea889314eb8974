using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace Mesh.Analyzers.Tests;

/// <summary>
/// Every diagnostic has a page in docs/diagnostics whose "Wrong" example reports it and whose "Right" example reports
/// nothing, both compiled (with the usings the pages leave out) and run through every Mesh analyzer.
/// </summary>
public sealed partial class DocumentationTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MemoryPack;
        using Mesh;

        """;

    private static readonly string Pages = Path.Combine(AppContext.BaseDirectory, "diagnostics");

    public static TheoryData<string> Ids()
    {
        var ids = new TheoryData<string>();
        foreach (DiagnosticDescriptor descriptor in Descriptors())
        {
            ids.Add(descriptor.Id);
        }

        return ids;
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task WrongExampleReportsTheDiagnostic(string id)
    {
        (ImmutableArray<Diagnostic> compiler, ImmutableArray<Diagnostic> analyzers) = await AnalyzeAsync(Example(id, "Wrong"));

        Assert.Contains(analyzers, d => d.Id == id);

        // [MeshActor] on a class is also the compiler's CS0592 (the attribute is interface-only); nothing else may fail.
        Assert.Empty(compiler.Where(d => d.Severity == DiagnosticSeverity.Error && !(id == "MESH0001" && d.Id == "CS0592")));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task RightExampleReportsNothing(string id)
    {
        (ImmutableArray<Diagnostic> compiler, ImmutableArray<Diagnostic> analyzers) = await AnalyzeAsync(Example(id, "Right"));

        Assert.Empty(analyzers);
        Assert.Empty(compiler.Where(static d => d.Severity == DiagnosticSeverity.Error));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void HelpLinkPointsAtThePage(string id)
    {
        DiagnosticDescriptor descriptor = Descriptors().Single(d => d.Id == id);

        Assert.EndsWith("/docs/diagnostics/" + id + ".md", descriptor.HelpLinkUri, StringComparison.Ordinal);
        Assert.StartsWith("# " + id + ": ", File.ReadAllText(Path.Combine(Pages, id + ".md")), StringComparison.Ordinal);
        Assert.Contains("(" + id + ".md)", File.ReadAllText(Path.Combine(Pages, "README.md")), StringComparison.Ordinal);
    }

    private static IEnumerable<DiagnosticDescriptor> Descriptors()
        => typeof(DiagnosticDescriptors)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(static f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(static d => d.Id, StringComparer.Ordinal);

    /// <summary>The first C# block under <c>## <paramref name="heading"/></c> of the page for <paramref name="id"/>.</summary>
    private static string Example(string id, string heading)
    {
        string page = File.ReadAllText(Path.Combine(Pages, id + ".md")).ReplaceLineEndings("\n");
        Match match = Regex.Match(page, "^## " + heading + "\n(?:(?!^## ).)*?^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(match.Success, $"{id}.md has no C# example under '## {heading}'");
        return match.Groups["code"].Value;
    }

    private static async Task<(ImmutableArray<Diagnostic> Compiler, ImmutableArray<Diagnostic> Analyzers)> AnalyzeAsync(string example)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Example",
            [CSharpSyntaxTree.ParseText(Usings + example, new CSharpParseOptions(LanguageVersion.Preview))],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        ImmutableArray<DiagnosticAnalyzer> analyzers =
        [
            new ContractDeclarationAnalyzer(),
            new ContractMemberAnalyzer(),
            new ContractCollisionAnalyzer(),
            new ActorClassAnalyzer(),
            new BlockingWaitAnalyzer(),
        ];
        ImmutableArray<Diagnostic> reported = await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        return (compilation.GetDiagnostics(), reported);
    }
}
