using Microsoft.CodeAnalysis.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Generators.Tests;

public sealed class GeneratorTests
{
    [Fact]
    public void Counter_output_matches_the_expected_files_and_compiles_without_warnings()
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(GeneratorHarness.Compile("CounterSample", Sources.Counter));

        GeneratorHarness.AssertClean(output);
        GeneratedSourceResult[] generated = [.. result.Results.Single().GeneratedSources];
        Assert.Equal(["MeshRegistration.g.cs", "Sample.ICounter.Mesh.g.cs"], generated.Select(s => s.HintName).Order(StringComparer.Ordinal));
        foreach (GeneratedSourceResult source in generated)
        {
            Snapshot.Match("Counter." + source.HintName, source.SourceText.ToString());
        }
    }

    [Fact]
    public void Inherited_members_overloads_aliases_defaults_collections_and_nested_contracts_match_the_expected_files()
    {
        // PlayerState is made serializable by a hand-written formatter registered elsewhere; the generator only
        // needs to compile against it, so it is marked [MemoryPackable] here without MemoryPack's own generator.
        string playerState = Sources.PlayerState.Replace("public sealed class PlayerState", "[MemoryPackable(GenerateType.NoGenerate)]\npublic sealed partial class PlayerState", StringComparison.Ordinal);
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(GeneratorHarness.Compile("GameSample", Sources.Game, playerState));

        GeneratorHarness.AssertClean(output);
        foreach (GeneratedSourceResult source in result.Results.Single().GeneratedSources)
        {
            Snapshot.Match("Game." + source.HintName, source.SourceText.ToString());
        }
    }

    [Fact]
    public async Task A_contract_and_implementation_compiled_in_memory_can_be_called_through_a_host()
    {
        const string entry = """
            using System.Threading.Tasks;
            using Mesh;

            namespace Sample;

            public static class Entry
            {
                public static async Task<string> RunAsync(IMesh mesh)
                {
                    ICounter counter = mesh.GetActor<ICounter>("c1");
                    int a = await counter.IncrementAsync();
                    int b = await counter.IncrementAsync(10);
                    await counter.ResetAsync();
                    int c = await counter.IncrementAsync(2);
                    return $"{a} {b} {c} {counter}";
                }
            }
            """;
        string source = Sources.Counter.Replace("\"counter\"", "\"inmemory-counter\"", StringComparison.Ordinal);
        (_, Compilation output) = GeneratorHarness.Run(GeneratorHarness.Compile("InMemoryCounter", source, entry));
        GeneratorHarness.AssertClean(output);
        Assembly assembly = GeneratorHarness.Load(output);

        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddMesh(mesh => mesh.WithCapabilities("inmemory-counter"));
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            MethodInfo run = assembly.GetType("Sample.Entry")!.GetMethod("RunAsync")!;
            string text = await (Task<string>)run.Invoke(null, [host.Services.GetRequiredService<IMesh>()])!;
            Assert.Equal("1 11 2 inmemory-counter/ICounter/c1", text);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Editing_an_unrelated_file_leaves_every_step_cached()
    {
        CSharpCompilation first = GeneratorHarness.Compile("Incremental", Sources.Counter, "namespace Other; public static class Util { public static int A() => 1; }");
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(first);

        SyntaxTree unrelated = first.SyntaxTrees.Last();
        CSharpCompilation second = first.ReplaceSyntaxTree(unrelated, CSharpSyntaxTree.ParseText("namespace Other; public static class Util { public static int A() => 2; public static int B() => 3; }", (CSharpParseOptions)unrelated.Options, unrelated.FilePath));
        GeneratorRunResult result = driver.RunGenerators(second).GetRunResult().Results.Single();

        string[] steps = [MeshGenerator.ContractsStep, MeshGenerator.ImplementationsStep, MeshGenerator.RegistrationStep, MeshGenerator.ReferencesStep];
        foreach (string step in steps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(step), $"step {step} was not tracked");
            foreach (IncrementalGeneratorRunStep run in result.TrackedSteps[step])
            {
                foreach ((object value, IncrementalStepRunReason reason) in run.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step} produced {reason} for {value}");
                }
            }
        }

        foreach ((object value, IncrementalStepRunReason reason) in result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs))
        {
            Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output step produced {reason} for {value}");
        }
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_or_compilations()
    {
        GeneratorDriver driver = GeneratorHarness.CreateDriver(trackSteps: true).RunGenerators(GeneratorHarness.Compile("Models", Sources.Counter));
        GeneratorRunResult result = driver.GetRunResult().Results.Single();

        foreach (string step in new[] { MeshGenerator.ContractsStep, MeshGenerator.ImplementationsStep, MeshGenerator.RegistrationStep, MeshGenerator.ReferencesStep })
        {
            foreach (object value in result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Value))
            {
                AssertNoRoslynObjects(value, depth: 0);
            }
        }
    }

    [Theory]
    [InlineData("int Count();", "MESH0003", "")]
    [InlineData("[OneWay] ValueTask<int> GetAsync();", "MESH0004", "")]
    [InlineData("ValueTask SetAsync(object value);", "MESH0005", "")]
    [InlineData("ValueTask SetAsync(ref int value);", "MESH0006", "")]
    [InlineData("ValueTask SetAsync(System.Span<byte> value);", "MESH0006", "")]
    [InlineData("ValueTask SetAsync<T>(T value);", "MESH0007", "")]
    [InlineData("int Value { get; }", "MESH0007", "")]
    [InlineData("event System.Action Changed;", "MESH0007", "")]
    [InlineData("ValueTask SetAsync(CancellationToken ct, int value);", "MESH0008", "")]
    [InlineData("ValueTask SetAsync(int a); [MethodAlias(\"SetAsync(int)\")] ValueTask OtherAsync(string b);", "MESH0009", "")]
    [InlineData("ValueTask SetAsync(Missing value);", "MESH0005", "CS0246")]
    public void Invalid_contracts_are_skipped_and_the_only_errors_are_the_MESH_diagnostics(string member, string expectedId, string compilerError)
    {
        string source = $$"""
            using System.Threading;
            using System.Threading.Tasks;
            using Mesh;

            namespace Broken;

            [MeshActor("broken")]
            public interface IBroken : IMeshActor
            {
                {{member}}
            }

            [MeshActor("fine")]
            public interface IFine : IMeshActor { ValueTask PingAsync(); }

            public sealed class Fine : IFine { public ValueTask PingAsync() => default; }
            """;

        (string[] hints, string[] errors) = RunWithAnalyzers(source);

        Assert.Contains("Broken.IFine.Mesh.g.cs", hints);
        Assert.DoesNotContain(hints, h => h.Contains("IBroken", StringComparison.Ordinal));
        Assert.Contains(expectedId, errors);
        string[] expected = compilerError.Length == 0 ? [expectedId] : [compilerError, expectedId];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("[MeshActor(\"counter\")] public sealed class NotAnInterface { }", "MESH0001", "CS0592")]
    [InlineData("[MeshActor(\"Not Valid\")] public interface IBadName : IMeshActor { ValueTask PingAsync(); }", "MESH0002", "")]
    [InlineData("public sealed class Second : IFine { public ValueTask PingAsync() => default; }", "MESH0010", "")]
    [InlineData("public abstract class Abstract : IFine { public ValueTask PingAsync() => default; }", "MESH0011", "")]
    [InlineData("[MeshActor(\"hidden\")] public interface IHidden : IMeshActor { ValueTask PingAsync(); } public sealed class Hidden : IHidden { private Hidden() { } public ValueTask PingAsync() => default; }", "MESH0011", "")]
    [InlineData("[MeshActor(\"cache\")] public interface ICache<T> : IMeshActor { ValueTask<T> GetAsync(); } public sealed class Cache : ICache<int> { public ValueTask<int> GetAsync() => default; }", "MESH0015", "")]
    [InlineData("public static class Outer { [MeshActor(\"secret\")] private interface ISecret : IMeshActor { ValueTask PingAsync(); } private sealed class Secret : ISecret { public ValueTask PingAsync() => default; } }", "MESH0015", "MESH0011")]
    public void Invalid_declarations_and_classes_generate_code_that_compiles(string declaration, string expectedId, string compilerError)
    {
        string source = $$"""
            using System.Threading.Tasks;
            using Mesh;

            namespace Broken;

            [MeshActor("fine")]
            public interface IFine : IMeshActor { ValueTask PingAsync(); }

            public sealed class Fine : IFine { public ValueTask PingAsync() => default; }

            {{declaration}}
            """;

        (_, string[] errors) = RunWithAnalyzers(source);

        string[] expected = compilerError.Length == 0 ? [expectedId] : [compilerError, expectedId];
        Assert.Equal(expected.Order(StringComparer.Ordinal), errors.Distinct().Order(StringComparer.Ordinal));
    }

    /// <summary>Runs the generator, then every Mesh analyzer over the result; returns the generated files and the ids of
    /// all errors, after asserting the generator did not throw and no error lies in generated code.</summary>
    private static (string[] Hints, string[] Errors) RunWithAnalyzers(string source)
    {
        (GeneratorDriverRunResult result, Compilation output) = GeneratorHarness.Run(GeneratorHarness.Compile("Broken", source));
        GeneratorRunResult run = result.Results.Single();
        Assert.Null(run.Exception);

        System.Collections.Immutable.ImmutableArray<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer> analyzers =
        [
            new Mesh.Analyzers.ContractDeclarationAnalyzer(),
            new Mesh.Analyzers.ContractMemberAnalyzer(),
            new Mesh.Analyzers.ActorClassAnalyzer(),
            new Mesh.Analyzers.ContractCollisionAnalyzer(),
            new Mesh.Analyzers.BlockingWaitAnalyzer(),
        ];
        Diagnostic[] all = [.. output.WithAnalyzers(analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult()];
        Diagnostic[] errors = [.. all.Where(d => d.Severity == DiagnosticSeverity.Error)];
        Assert.DoesNotContain(errors, d => d.Location.SourceTree is { } tree && result.GeneratedTrees.Contains(tree));
        return ([.. run.GeneratedSources.Select(s => s.HintName)], [.. errors.Select(d => d.Id)]);
    }

    private static void AssertNoRoslynObjects(object? value, int depth)
    {
        if (value is null || depth > 6 || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        Assert.False(value is ISymbol or Compilation or SemanticModel or SyntaxNode, $"{value.GetType()} is cached by the pipeline");
        if (value is System.Collections.IEnumerable items)
        {
            foreach (object? item in items)
            {
                AssertNoRoslynObjects(item, depth + 1);
            }

            return;
        }

        foreach (PropertyInfo property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0)
            {
                AssertNoRoslynObjects(property.GetValue(value), depth + 1);
            }
        }

        foreach (FieldInfo field in value.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            AssertNoRoslynObjects(field.GetValue(value), depth + 1);
        }
    }
}
