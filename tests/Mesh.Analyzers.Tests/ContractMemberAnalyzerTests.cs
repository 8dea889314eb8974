using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.ContractMemberAnalyzer>;

namespace Mesh.Analyzers.Tests;

/// <summary>MESH0003 to MESH0009: one case that must report, at its exact span, and one near miss that must not.</summary>
public sealed class ContractMemberAnalyzerTests
{
    private const string Usings = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using MemoryPack;
        using Mesh;

        """;

    private static DiagnosticResult Expect(DiagnosticDescriptor descriptor, int location, params object[] arguments)
        => V.Diagnostic(descriptor).WithLocation(location).WithArguments(arguments);

    // MESH0003

    [Fact]
    public Task SynchronousReturnTypesAreReportedAtTheReturnType() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            {|#0:int|} Get();
            {|#1:void|} Reset();
            {|#2:IAsyncEnumerable<int>|} StreamAsync();
        }
        """,
        Expect(DiagnosticDescriptors.UnsupportedReturnType, 0, "Get", "int", "ValueTask<int>"),
        Expect(DiagnosticDescriptors.UnsupportedReturnType, 1, "Reset", "void", "ValueTask"),
        Expect(DiagnosticDescriptors.UnsupportedReturnType, 2, "StreamAsync", "System.Collections.Generic.IAsyncEnumerable<int>", "ValueTask<System.Collections.Generic.IAsyncEnumerable<int>>"));

    [Fact]
    public Task EveryTaskReturnTypeIsAccepted() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            ValueTask ResetAsync();
            ValueTask<int> GetAsync();
            Task SaveAsync();
            Task<string> NameAsync();
        }
        """);

    [Fact]
    public Task InterfacesWithoutMeshActorAreNotAnalyzed() => V.AnalyzerAsync(
        Usings + """
        public interface ICounter
        {
            int Get();
            void Set(ref int value);
            int Count { get; }
        }
        """);

    // MESH0004

    [Fact]
    public Task OneWayMethodReturningAValueIsReportedAtTheReturnType() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            [OneWay] {|#0:ValueTask<int>|} ResetAsync();
            [OneWay] {|#1:Task<string>|} LogAsync(string line);
        }
        """,
        Expect(DiagnosticDescriptors.OneWayReturnsValue, 0, "ResetAsync", "System.Threading.Tasks.ValueTask<int>"),
        Expect(DiagnosticDescriptors.OneWayReturnsValue, 1, "LogAsync", "System.Threading.Tasks.Task<string>"));

    [Fact]
    public Task OneWayMethodReturningValueTaskOrTaskIsAccepted() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            [OneWay] ValueTask ResetAsync();
            [OneWay] Task LogAsync(string line);
            ValueTask<int> GetAsync();
        }
        """);

    // MESH0005

    [Fact]
    public Task UnserializableParametersAndResultsAreReported() => V.AnalyzerAsync(
        Usings + """
        public sealed class PlayerState { public int Score { get; set; } }
        public struct Position { public string Name; }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            ValueTask SetAsync(PlayerState {|#0:state|});
            ValueTask SetAllAsync(List<PlayerState> {|#1:states|});
            {|#2:ValueTask<object>|} GetAsync();
            {|#3:Task<Position>|} WhereAsync();
            ValueTask RunAsync(System.Action {|#4:callback|});
        }
        """,
        Expect(DiagnosticDescriptors.NotSerializable, 0, "Parameter 'state' of actor method 'SetAsync'", "PlayerState", "mark 'PlayerState' [MemoryPackable] and partial"),
        Expect(DiagnosticDescriptors.NotSerializable, 1, "Parameter 'states' of actor method 'SetAllAsync'", "PlayerState", "mark 'PlayerState' [MemoryPackable] and partial"),
        Expect(DiagnosticDescriptors.NotSerializable, 2, "The result of actor method 'GetAsync'", "object", "use a [MemoryPackable] type or one MemoryPack supports"),
        Expect(DiagnosticDescriptors.NotSerializable, 3, "The result of actor method 'WhereAsync'", "Position", "mark 'Position' [MemoryPackable] and partial"),
        Expect(DiagnosticDescriptors.NotSerializable, 4, "Parameter 'callback' of actor method 'RunAsync'", "System.Action", "use a [MemoryPackable] type or one MemoryPack supports"));

    [Fact]
    public Task SerializableTypesAreAccepted() => V.AnalyzerAsync(
        Usings + """
        [MemoryPackable]
        public sealed partial class PlayerState { public int Score { get; set; } }
        public struct Point { public int X; public int Y; }
        public enum Color { Red, Green }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            ValueTask SetAsync(PlayerState state, List<PlayerState> history, Dictionary<string, int[]> scores);
            ValueTask<PlayerState?> GetAsync(System.Guid id, System.DateTimeOffset at, Color color, Point point, int? limit);
            ValueTask<(string Name, long Score)> BestAsync(string[] names, decimal d, System.TimeSpan span);
        }
        """);

    // MESH0006

    [Fact]
    public Task RefOutInPointerAndSpanParametersAreReported() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public unsafe interface IStore : IMeshActor
        {
            ValueTask SwapAsync(ref int {|#0:value|});
            ValueTask TryGetAsync(string key, out int {|#1:value|});
            ValueTask ReadAsync(in long {|#2:value|});
            ValueTask PokeAsync(byte* {|#3:address|});
            ValueTask SumAsync(params System.ReadOnlySpan<int> {|#4:values|});
        }
        """,
        Expect(DiagnosticDescriptors.UnsupportedParameter, 0, "value", "SwapAsync", "a ref parameter"),
        Expect(DiagnosticDescriptors.UnsupportedParameter, 1, "value", "TryGetAsync", "an out parameter"),
        Expect(DiagnosticDescriptors.UnsupportedParameter, 2, "value", "ReadAsync", "an in parameter"),
        Expect(DiagnosticDescriptors.UnsupportedParameter, 3, "address", "PokeAsync", "a pointer"),
        Expect(DiagnosticDescriptors.UnsupportedParameter, 4, "values", "SumAsync", "a params ref struct 'System.ReadOnlySpan<int>'"));

    [Fact]
    public Task ValueAndParamsArrayParametersAreAccepted() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            ValueTask SetAsync(int value, string key = "k");
            ValueTask SumAsync(params int[] values);
            ValueTask<byte[]> ReadAsync(System.ReadOnlyMemory<byte> prefix);
        }
        """);

    // MESH0007

    [Fact]
    public Task PropertiesEventsIndexersGenericAndStaticAbstractMembersAreReported() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            int {|#0:Count|} { get; }
            event System.Action {|#1:Changed|};
            int {|#2:this|}[int index] { get; }
            ValueTask<T> {|#3:GetAsync|}<T>(string key);
            static abstract IStore {|#4:Create|}();
        }
        """,
        Expect(DiagnosticDescriptors.UnsupportedMember, 0, "Count", "a property"),
        Expect(DiagnosticDescriptors.UnsupportedMember, 1, "Changed", "an event"),
        Expect(DiagnosticDescriptors.UnsupportedMember, 2, "this[]", "an indexer"),
        Expect(DiagnosticDescriptors.UnsupportedMember, 3, "GetAsync", "a generic method"),
        Expect(DiagnosticDescriptors.UnsupportedMember, 4, "Create", "a static abstract member"));

    [Fact]
    public Task MembersWithBodiesAreNotPartOfTheContract() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            const int Limit = 10;
            ValueTask<int> GetCountAsync();
            static int Twice(int value) => value * 2;
            async ValueTask<int> GetTwiceAsync() => Twice(await GetCountAsync());
        }
        """);

    // MESH0008

    [Fact]
    public Task CancellationTokenBeforeOtherParametersOrTwiceIsReported() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            ValueTask SaveAsync(CancellationToken {|#0:ct|}, string name);
            ValueTask LoadAsync(string name, CancellationToken {|#1:first|}, CancellationToken {|#2:second|});
        }
        """,
        Expect(DiagnosticDescriptors.CancellationTokenPosition, 0, "ct", "SaveAsync", "a CancellationToken before other parameters"),
        Expect(DiagnosticDescriptors.CancellationTokenPosition, 1, "first", "LoadAsync", "a CancellationToken before other parameters"),
        Expect(DiagnosticDescriptors.CancellationTokenPosition, 2, "second", "LoadAsync", "a second CancellationToken"));

    [Fact]
    public Task CancellationTokenAsTheLastParameterIsAccepted() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            ValueTask SaveAsync(string name, CancellationToken ct = default);
            ValueTask<int> CountAsync(CancellationToken ct);
        }
        """);

    // MESH0009

    [Fact]
    public Task TwoMethodsWithOneAliasAreReportedAtTheSecond() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            [MethodAlias("get")] ValueTask<int> GetAsync();
            [MethodAlias("get")] ValueTask<int> {|#0:GetAsync|}(string key);
        }
        """,
        Expect(DiagnosticDescriptors.DuplicateMethodId, 0, "GetAsync(string)", "GetAsync()", "IStore"));

    [Fact]
    public Task OverloadsAndDistinctAliasesAreAccepted() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("store")]
        public interface IStore : IMeshActor
        {
            ValueTask<int> GetAsync();
            ValueTask<int> GetAsync(string key);
            ValueTask<int> GetAsync(long key);
            [MethodAlias("count")] ValueTask<int> CountAsync();
            [MethodAlias("count-by-prefix")] ValueTask<int> CountAsync(string prefix);
        }
        """);

    [Fact]
    public Task TheSameMethodInheritedTwiceIsReportedAtTheContract() => V.AnalyzerAsync(
        Usings + """
        public interface IPing { ValueTask PingAsync(); }
        public interface IHealth { ValueTask PingAsync(); }

        [MeshActor("node")]
        public interface {|#0:INode|} : IMeshActor, IPing, IHealth { }
        """,
        Expect(DiagnosticDescriptors.DuplicateMethodId, 0, "PingAsync()", "PingAsync()", "INode"));

    // Where problems of inherited members are reported

    [Fact]
    public Task ProblemsInheritedFromAnotherFileAreReportedAtTheContractName() => V.AnalyzerAsync(
        [
            Usings + """
            public interface IBase
            {
                int Get();
            }
            """,
            Usings + """
            [MeshActor("counter")]
            public interface {|#0:ICounter|} : IMeshActor, IBase { }
            """,
        ],
        Expect(DiagnosticDescriptors.UnsupportedReturnType, 0, "Get", "int", "ValueTask<int>"));

    [Fact]
    public Task AnInvalidBaseContractIsReportedAtItsMemberAndAtEveryDerivedContract() => V.AnalyzerAsync(
        Usings + """
        [MeshActor("base")]
        public interface IBase : IMeshActor
        {
            ValueTask SetAsync(ref int {|#0:value|});
        }

        [MeshActor("counter")]
        public interface {|#1:ICounter|} : IBase { }
        """,
        Expect(DiagnosticDescriptors.UnsupportedParameter, 0, "value", "SetAsync", "a ref parameter"),
        Expect(DiagnosticDescriptors.UnsupportedParameter, 1, "value", "SetAsync", "a ref parameter"));

    [Fact]
    public async Task ProblemsInheritedFromAReferencedAssemblyAreReportedAtTheContractName()
    {
        CSharpCompilation library = CSharpCompilation.Create(
            "Library",
            [CSharpSyntaxTree.ParseText("public interface IBase { System.Threading.Tasks.ValueTask SetAsync(ref int value); }")],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        Assert.True(library.Emit(image).Success);

        var test = new CSharpAnalyzerTest<ContractMemberAnalyzer, DefaultVerifier>
        {
            TestCode = """
                using Mesh;
                [MeshActor("counter")]
                public interface {|#0:ICounter|} : IMeshActor, IBase { }
                """,
            ReferenceAssemblies = TestReferences.None,
        };
        test.TestState.AdditionalReferences.AddRange(TestReferences.All);
        test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromImage(image.ToArray()));
        test.ExpectedDiagnostics.Add(Expect(DiagnosticDescriptors.UnsupportedParameter, 0, "value", "SetAsync", "a ref parameter"));
        await test.RunAsync(CancellationToken.None);
    }

    // The MESH0005 code fix finds the type to change through this property.

    [Fact]
    public async Task NotSerializableCarriesTheTypeIdOnlyForTypesDeclaredInSource()
    {
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(
            Usings + """
            namespace Game
            {
                public sealed class PlayerState { }

                [MeshActor("game")]
                public interface IPlayer : IMeshActor
                {
                    ValueTask SetAsync(PlayerState state);
                    ValueTask<object> GetAsync();
                }
            }
            """);

        Assert.Collection(
            diagnostics.OrderBy(static d => d.Location.SourceSpan.Start),
            first => Assert.Equal("T:Game.PlayerState", first.Properties[ContractMemberAnalyzer.TypeIdProperty]),
            second => Assert.False(second.Properties.ContainsKey(ContractMemberAnalyzer.TypeIdProperty)));
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Test",
            [CSharpSyntaxTree.ParseText(source)],
            TestReferences.All,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Assert.Empty(compilation.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
        return await compilation
            .WithAnalyzers([new ContractMemberAnalyzer()])
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None);
    }
}
