using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace Mesh.Analyzers.Tests;

/// <summary>Runs an analyzer (and optionally a code fix) over test sources compiled against .NET 10 and Mesh.</summary>
internal static class Verify<TAnalyzer>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    public static DiagnosticResult Diagnostic(string id) => new DiagnosticResult(id, DiagnosticSeverity.Error);

    public static DiagnosticResult Diagnostic(DiagnosticDescriptor descriptor) => new(descriptor);

    /// <summary>Asserts that <paramref name="source"/> reports exactly <paramref name="expected"/>, at the marked spans.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> { TestCode = source };
        Configure(test);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>Asserts that <paramref name="sources"/>, one file each (<c>/0/Test0.cs</c>, <c>/0/Test1.cs</c>, ...), report exactly <paramref name="expected"/>.</summary>
    public static Task AnalyzerAsync(string[] sources, params DiagnosticResult[] expected)
    {
        var test = new CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>();
        foreach (string source in sources)
        {
            test.TestState.Sources.Add(source);
        }

        Configure(test);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    /// <summary>Asserts the diagnostics, then the exact text after the fix (and after Fix All).</summary>
    public static Task CodeFixAsync<TCodeFix>(string source, DiagnosticResult[] expected, string fixedSource, string? equivalenceKey = null, int iterations = 1)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            TestCode = source,
            FixedCode = fixedSource,
            CodeActionEquivalenceKey = equivalenceKey,
            NumberOfIncrementalIterations = iterations,
            NumberOfFixAllIterations = iterations == 0 ? 0 : 1,
        };
        Configure(test);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync(CancellationToken.None);
    }

    private static void Configure<TVerifier>(AnalyzerTest<TVerifier> test)
        where TVerifier : IVerifier, new()
    {
        test.ReferenceAssemblies = TestReferences.None;
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
    }
}

/// <summary>
/// The references test compilations use: .NET 10's reference pack from the SDK on this machine (the testing
/// library's own NuGet download cannot reach every feed), Mesh.Abstractions and MemoryPack.
/// </summary>
internal static class TestReferences
{
    /// <summary>No package download: every reference is added explicitly.</summary>
    public static readonly ReferenceAssemblies None = new("net10.0");

    public static readonly IReadOnlyList<MetadataReference> All = Load();

    private static List<MetadataReference> Load()
    {
        var references = new List<MetadataReference>();
        foreach (string path in FrameworkAssemblies())
        {
            references.Add(MetadataReference.CreateFromFile(path));
        }

        references.Add(MetadataReference.CreateFromFile(typeof(MeshActorAttribute).Assembly.Location));
        references.Add(MetadataReference.CreateFromFile(typeof(MemoryPack.MemoryPackableAttribute).Assembly.Location));
        return references;
    }

    private static IEnumerable<string> FrameworkAssemblies()
    {
        // <dotnet root>/shared/Microsoft.NETCore.App/<version>/ -> <dotnet root>/packs/Microsoft.NETCore.App.Ref/<version>/ref/net10.0
        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string packs = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        string? refDirectory = Directory.Exists(packs)
            ? Directory.GetDirectories(packs)
                .Select(static d => Path.Combine(d, "ref", "net10.0"))
                .Where(Directory.Exists)
                .OrderByDescending(static d => d, StringComparer.Ordinal)
                .FirstOrDefault()
            : null;
        if (refDirectory is not null)
        {
            return Directory.GetFiles(refDirectory, "*.dll");
        }

        string tpa = (string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!;
        return tpa.Split(Path.PathSeparator).Where(static p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll");
    }
}
