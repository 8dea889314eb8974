using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Mesh.Generators.Tests;

/// <summary>Runs <see cref="MeshGenerator"/> over in-memory sources compiled against .NET 10, Mesh and MemoryPack.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    public static CSharpCompilation Compile(string assemblyName, params string[] sources)
        => CSharpCompilation.Create(
            assemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(LanguageVersion.Preview), path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // As the .NET SDK does: MemoryPack.Core targets net8.0's System.Runtime, unified with net10.0's.
                .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]));

    public static CSharpGeneratorDriver CreateDriver(bool trackSteps = false)
        => CSharpGeneratorDriver.Create(
            [new MeshGenerator().AsSourceGenerator()],
            parseOptions: new CSharpParseOptions(LanguageVersion.Preview),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator and returns its result and the compilation with the generated sources added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(CSharpCompilation input)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        Assert.Empty(diagnostics);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Asserts that <paramref name="compilation"/> has no errors and no warnings.</summary>
    public static void AssertClean(Compilation compilation)
    {
        Diagnostic[] problems = [.. compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
        Assert.True(problems.Length == 0, string.Join(Environment.NewLine, problems.Select(p => p.ToString())));
    }

    /// <summary>Emits <paramref name="compilation"/> and loads it into this process, running its module initializer.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var image = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join(Environment.NewLine, emitted.Diagnostics));
        Assembly assembly = System.Runtime.Loader.AssemblyLoadContext.Default.LoadFromStream(new MemoryStream(image.ToArray()));
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        return assembly;
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The reference pack of the SDK running the tests: <dotnet>/shared/Microsoft.NETCore.App/<v>/ -> <dotnet>/packs/Microsoft.NETCore.App.Ref/<v>/ref/net10.0
        string runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string packs = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        string version = Path.GetFileName(runtimeDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string refDirectory = Path.Combine(packs, version, "ref", "net10.0");
        if (!Directory.Exists(refDirectory))
        {
            refDirectory = Directory.GetDirectories(packs).Order(StringComparer.Ordinal).Select(d => Path.Combine(d, "ref", "net10.0")).Last(Directory.Exists);
        }

        IEnumerable<string> framework = Directory.GetFiles(refDirectory, "*.dll");
        string[] extra =
        [
            typeof(MeshActorAttribute).Assembly.Location,
            typeof(MemoryPack.MemoryPackSerializer).Assembly.Location,
            typeof(Microsoft.Extensions.DependencyInjection.MeshServiceCollectionExtensions).Assembly.Location,
            typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location,
        ];
        return [.. framework.Concat(extra).Select(path => MetadataReference.CreateFromFile(path))];
    }
}
