using Mesh.Analyzers.CodeFixes;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.ContractMemberAnalyzer>;

namespace Mesh.Analyzers.Tests;

/// <summary>The fixes for MESH0003, MESH0004 and MESH0005: the exact text after one fix and after Fix All.</summary>
public sealed class ContractMemberCodeFixTests
{
    private const string Usings = """
        using System.Threading.Tasks;
        using Mesh;

        """;

    private static DiagnosticResult Expect(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, int location, params object[] arguments)
        => V.Diagnostic(descriptor).WithLocation(location).WithArguments(arguments);

    [Fact]
    public Task WrapInValueTaskFixesEverySynchronousReturnType() => V.CodeFixAsync<ReturnTypeCodeFixProvider>(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            /// <summary>Gets the count.</summary>
            {|#0:int|} Get();

            {|#1:void|} Reset();
            {|#2:string[]|} Names(int max);
        }
        """,
        [
            Expect(DiagnosticDescriptors.UnsupportedReturnType, 0, "Get", "int", "ValueTask<int>"),
            Expect(DiagnosticDescriptors.UnsupportedReturnType, 1, "Reset", "void", "ValueTask"),
            Expect(DiagnosticDescriptors.UnsupportedReturnType, 2, "Names", "string[]", "ValueTask<string[]>"),
        ],
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            /// <summary>Gets the count.</summary>
            ValueTask<int> Get();

            ValueTask Reset();
            ValueTask<string[]> Names(int max);
        }
        """,
        ReturnTypeCodeFixProvider.WrapInValueTaskKey,
        iterations: 3);

    [Fact]
    public Task ReturnValueTaskFixMakesOneWayMethodsReturnNothing() => V.CodeFixAsync<ReturnTypeCodeFixProvider>(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            [OneWay] {|#0:ValueTask<int>|} ResetAsync();

            [OneWay]
            {|#1:Task<string>|} LogAsync(string line);
        }
        """,
        [
            Expect(DiagnosticDescriptors.OneWayReturnsValue, 0, "ResetAsync", "System.Threading.Tasks.ValueTask<int>"),
            Expect(DiagnosticDescriptors.OneWayReturnsValue, 1, "LogAsync", "System.Threading.Tasks.Task<string>"),
        ],
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            [OneWay] ValueTask ResetAsync();

            [OneWay]
            ValueTask LogAsync(string line);
        }
        """,
        ReturnTypeCodeFixProvider.ReturnValueTaskKey,
        iterations: 2);

    [Fact]
    public Task RemoveOneWayFixKeepsTheResultAndOtherAttributes() => V.CodeFixAsync<ReturnTypeCodeFixProvider>(
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            [OneWay] {|#0:ValueTask<int>|} ResetAsync();

            [OneWay]
            {|#1:Task<string>|} LogAsync(string line);

            [MethodAlias("peek"), OneWay]
            {|#2:ValueTask<int>|} PeekAsync();
        }
        """,
        [
            Expect(DiagnosticDescriptors.OneWayReturnsValue, 0, "ResetAsync", "System.Threading.Tasks.ValueTask<int>"),
            Expect(DiagnosticDescriptors.OneWayReturnsValue, 1, "LogAsync", "System.Threading.Tasks.Task<string>"),
            Expect(DiagnosticDescriptors.OneWayReturnsValue, 2, "PeekAsync", "System.Threading.Tasks.ValueTask<int>"),
        ],
        Usings + """
        [MeshActor("counter")]
        public interface ICounter : IMeshActor
        {
            ValueTask<int> ResetAsync();

            Task<string> LogAsync(string line);

            [MethodAlias("peek")]
            ValueTask<int> PeekAsync();
        }
        """,
        ReturnTypeCodeFixProvider.RemoveOneWayKey,
        iterations: 3);

    [Fact]
    public Task MemoryPackableFixMakesASourceTypeSerializable() => V.CodeFixAsync<MemoryPackableCodeFixProvider>(
        Usings + """
        /// <summary>A player's state.</summary>
        public sealed class PlayerState { public int Score { get; set; } }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            {|#0:ValueTask<PlayerState>|} GetAsync();
        }
        """,
        [Expect(DiagnosticDescriptors.NotSerializable, 0, "The result of actor method 'GetAsync'", "PlayerState", "mark 'PlayerState' [MemoryPackable] and partial")],
        """
        using System.Threading.Tasks;
        using Mesh;
        using MemoryPack;
        /// <summary>A player's state.</summary>
        [MemoryPackable]
        public sealed partial class PlayerState { public int Score { get; set; } }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            ValueTask<PlayerState> GetAsync();
        }
        """,
        MemoryPackableCodeFixProvider.Key);

    [Fact]
    public Task MemoryPackableFixKeepsExistingAttributesAndUsings() => V.CodeFixAsync<MemoryPackableCodeFixProvider>(
        "using MemoryPack;\n" + Usings + """
        [System.Serializable]
        public struct Position { public string Name; }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            ValueTask MoveAsync(Position {|#0:to|});
        }
        """,
        [Expect(DiagnosticDescriptors.NotSerializable, 0, "Parameter 'to' of actor method 'MoveAsync'", "Position", "mark 'Position' [MemoryPackable] and partial")],
        "using MemoryPack;\n" + Usings + """
        [MemoryPackable]
        [System.Serializable]
        public partial struct Position { public string Name; }

        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            ValueTask MoveAsync(Position to);
        }
        """,
        MemoryPackableCodeFixProvider.Key);

    [Fact]
    public Task MemoryPackableFixAllChangesEachTypeOnce() => V.CodeFixAsync<MemoryPackableCodeFixProvider>(
        "using MemoryPack;\n" + Usings + """
        namespace Game
        {
            public record Item(string Name);

            internal sealed class Unused { }

            /// <summary>Where a player stands.</summary>
            public struct Position { public string Zone; }

            [MeshActor("game")]
            public interface IPlayer : IMeshActor
            {
                ValueTask MoveAsync(Position {|#0:to|}, Item {|#1:carrying|});
                {|#2:ValueTask<Position>|} WhereAsync();
            }
        }
        """,
        [
            Expect(DiagnosticDescriptors.NotSerializable, 0, "Parameter 'to' of actor method 'MoveAsync'", "Game.Position", "mark 'Game.Position' [MemoryPackable] and partial"),
            Expect(DiagnosticDescriptors.NotSerializable, 1, "Parameter 'carrying' of actor method 'MoveAsync'", "Game.Item", "mark 'Game.Item' [MemoryPackable] and partial"),
            Expect(DiagnosticDescriptors.NotSerializable, 2, "The result of actor method 'WhereAsync'", "Game.Position", "mark 'Game.Position' [MemoryPackable] and partial"),
        ],
        "using MemoryPack;\n" + Usings + """
        namespace Game
        {
            [MemoryPackable]
            public partial record Item(string Name);

            internal sealed class Unused { }

            /// <summary>Where a player stands.</summary>
            [MemoryPackable]
            public partial struct Position { public string Zone; }

            [MeshActor("game")]
            public interface IPlayer : IMeshActor
            {
                ValueTask MoveAsync(Position to, Item carrying);
                ValueTask<Position> WhereAsync();
            }
        }
        """,
        MemoryPackableCodeFixProvider.Key,
        iterations: 2);

    [Fact]
    public Task MemoryPackableFixIsNotOfferedForTypesOutsideSource() => V.CodeFixAsync<MemoryPackableCodeFixProvider>(
        Usings + """
        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            {|#0:ValueTask<object>|} GetAsync();
        }
        """,
        [Expect(DiagnosticDescriptors.NotSerializable, 0, "The result of actor method 'GetAsync'", "object", "use a [MemoryPackable] type or one MemoryPack supports")],
        Usings + """
        [MeshActor("game")]
        public interface IPlayer : IMeshActor
        {
            {|#0:ValueTask<object>|} GetAsync();
        }
        """,
        iterations: 0);
}
