using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.ContractDeclarationAnalyzer>;

namespace Mesh.Analyzers.Tests;

public sealed class ContractDeclarationAnalyzerTests
{
    [Fact]
    public Task MeshActorOnAClassIsReportedAtTheAttribute() => V.AnalyzerAsync(
        """
        using Mesh;
        [{|#0:MeshActor("counter")|}]
        public sealed class Counter { }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotAnInterface).WithLocation(0).WithArguments("Counter"),
        CompilerAttributeTargetError());

    [Fact]
    public Task MeshActorOnAStructIsReported() => V.AnalyzerAsync(
        """
        using Mesh;
        [{|#0:MeshActor("counter")|}]
        public struct Counter { }
        """,
        V.Diagnostic(DiagnosticDescriptors.NotAnInterface).WithLocation(0).WithArguments("Counter"),
        CompilerAttributeTargetError());

    [Fact]
    public Task MeshActorOnAnInterfaceIsNotReported() => V.AnalyzerAsync(
        """
        using Mesh;
        using System.Threading.Tasks;
        [MeshActor("counter")]
        public interface ICounter : IMeshActor { ValueTask<int> GetAsync(); }
        """);

    [Fact]
    public Task GenericContractIsReportedAtItsName() => V.AnalyzerAsync(
        """
        using Mesh;
        using System.Threading.Tasks;
        [MeshActor("cache")]
        public interface {|#0:ICache|}<T> : IMeshActor { ValueTask<T> GetAsync(); }
        """,
        V.Diagnostic(DiagnosticDescriptors.ContractNotGeneratable).WithLocation(0).WithArguments("ICache", "is generic"));

    [Fact]
    public Task ContractNestedInAPrivateTypeIsReportedAtItsName() => V.AnalyzerAsync(
        """
        using Mesh;
        using System.Threading.Tasks;
        public class Outer
        {
            private class Inner
            {
                [MeshActor("cache")]
                public interface {|#0:ICache|} : IMeshActor { ValueTask<int> GetAsync(); }
            }
        }
        """,
        V.Diagnostic(DiagnosticDescriptors.ContractNotGeneratable).WithLocation(0).WithArguments("ICache", "is private or nested in a private type"));

    [Fact]
    public Task InternalNestedContractIsNotReported() => V.AnalyzerAsync(
        """
        using Mesh;
        using System.Threading.Tasks;
        public class Outer
        {
            internal interface IHelper { }

            [MeshActor("cache")]
            internal interface ICache : IMeshActor { ValueTask<int> GetAsync(); }
        }
        """);

    // The compiler reports CS0592 too (the attribute's usage is interface-only); MESH0001 says how to fix it.
    private static Microsoft.CodeAnalysis.Testing.DiagnosticResult CompilerAttributeTargetError() =>
        Microsoft.CodeAnalysis.Testing.DiagnosticResult.CompilerError("CS0592").WithSpan(2, 2, 2, 11);

    [Theory]
    [InlineData("Game Server")]
    [InlineData("Counter")]
    [InlineData("1counter")]
    [InlineData("")]
    [InlineData("chat/room")]
    public Task InvalidCapabilityIsReportedAtTheArgument(string capability) => V.AnalyzerAsync(
        $$"""
        using Mesh;
        [MeshActor({|#0:"{{capability}}"|})]
        public interface IGame : IMeshActor { }
        """,
        V.Diagnostic(DiagnosticDescriptors.InvalidCapability).WithLocation(0).WithArguments(capability));

    [Theory]
    [InlineData("game")]
    [InlineData("game-server.eu_1")]
    [InlineData("a")]
    public Task ValidCapabilityIsNotReported(string capability) => V.AnalyzerAsync(
        $$"""
        using Mesh;
        [MeshActor("{{capability}}")]
        public interface IGame : IMeshActor { }
        """);
}
