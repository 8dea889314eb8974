using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.ActorClassAnalyzer>;

namespace Mesh.Analyzers.Tests;

public sealed class ActorClassAnalyzerTests
{
    private const string Contract = """
        using Mesh;
        using System.Threading.Tasks;

        [MeshActor("counter")]
        public interface ICounter : IMeshActor { ValueTask<int> GetAsync(); }

        """;

    [Fact]
    public Task SecondImplementationOfAContractIsReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter : ICounter { public ValueTask<int> GetAsync() => new(1); }
        public sealed class {|#0:FastCounter|} : ICounter { public ValueTask<int> GetAsync() => new(2); }
        """,
        V.Diagnostic(DiagnosticDescriptors.DuplicateImplementation).WithLocation(0).WithArguments("FastCounter", "Counter", "ICounter"));

    [Fact]
    public Task ImplementationsOfDifferentContractsAreNotReported() => V.AnalyzerAsync(
        Contract + """
        [MeshActor("counter")]
        public interface IOtherCounter : IMeshActor { ValueTask<int> GetAsync(); }
        public sealed class Counter : ICounter { public ValueTask<int> GetAsync() => new(1); }
        public sealed class OtherCounter : IOtherCounter { public ValueTask<int> GetAsync() => new(2); }
        """);

    [Fact]
    public Task AbstractActorClassIsReported() => V.AnalyzerAsync(
        Contract + """
        public abstract class {|#0:Counter|} : ICounter { public abstract ValueTask<int> GetAsync(); }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotActivatable).WithLocation(0).WithArguments("Counter", "is abstract"));

    [Fact]
    public Task OpenGenericActorClassIsReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class {|#0:Counter|}<T> : ICounter { public ValueTask<int> GetAsync() => new(1); }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotActivatable).WithLocation(0).WithArguments("Counter", "is an open generic type"));

    [Fact]
    public Task ActorClassWithoutPublicConstructorIsReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class {|#0:Counter|} : ICounter
        {
            private Counter() { }
            public ValueTask<int> GetAsync() => new(1);
        }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotActivatable).WithLocation(0).WithArguments("Counter", "has no public constructor"));

    [Fact]
    public Task PrivateNestedActorClassIsReported() => V.AnalyzerAsync(
        Contract + """
        public static class Outer
        {
            private sealed class {|#0:Counter|} : ICounter { public ValueTask<int> GetAsync() => new(1); }
        }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotActivatable).WithLocation(0).WithArguments("Counter", "is private or nested in a private type"));

    [Fact]
    public Task InternalNestedActorClassIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public static class Outer
        {
            internal sealed class Counter : ICounter { public ValueTask<int> GetAsync() => new(1); }
        }
        """);

    [Fact]
    public Task ActorClassWithPublicConstructorTakingServicesIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter(IActorContext context, System.IServiceProvider services) : ICounter
        {
            public ValueTask<int> GetAsync() => new(context.Id.Key.Length + (services is null ? 0 : 1));
        }
        """);

    [Fact]
    public Task AbstractClassThatIsNotAnActorIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public abstract class Shape { }
        """);

    [Fact]
    public Task MutableStaticFieldAndPropertyAreReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter : ICounter
        {
            private static int {|#0:s_total|};
            public static int {|#1:Last|} { get; set; }
            public ValueTask<int> GetAsync() => new(++s_total);
        }
        """,
        new DiagnosticResult(DiagnosticDescriptors.MutableStaticState).WithLocation(0).WithArguments("Counter", "s_total"),
        new DiagnosticResult(DiagnosticDescriptors.MutableStaticState).WithLocation(1).WithArguments("Counter", "Last"));

    [Fact]
    public Task ConstantsReadOnlyStaticsAndInstanceFieldsAreNotReported() => V.AnalyzerAsync(
        Contract + """
        public sealed class Counter : ICounter
        {
            private const int Start = 1;
            private static readonly string[] s_names = ["a"];
            public static int Max { get; } = 10;
            private int _value = Start;
            public ValueTask<int> GetAsync() => new(_value + s_names.Length + Max);
        }
        """);

    [Fact]
    public Task StaticStateOutsideActorClassesIsNotReported() => V.AnalyzerAsync(
        Contract + """
        public static class Cache { public static int Hits; }
        """);
}
