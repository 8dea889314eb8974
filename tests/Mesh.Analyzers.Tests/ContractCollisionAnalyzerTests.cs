using Microsoft.CodeAnalysis.Testing;
using Xunit;
using V = Mesh.Analyzers.Tests.Verify<Mesh.Analyzers.ContractCollisionAnalyzer>;

namespace Mesh.Analyzers.Tests;

public sealed class ContractCollisionAnalyzerTests
{
    [Fact]
    public Task SameNameAndCapabilityInTwoNamespacesIsReported() => V.AnalyzerAsync(
        """
        using Mesh;
        namespace Game { [MeshActor("chat")] public interface IRoom : IMeshActor { } }
        namespace Lobby { [MeshActor("chat")] public interface {|#0:IRoom|} : IMeshActor { } }
        """,
        new DiagnosticResult(DiagnosticDescriptors.ContractNameCollision).WithLocation(0).WithArguments("Lobby.IRoom", "Game.IRoom", "chat"));

    [Fact]
    public Task SameNameWithDifferentCapabilitiesIsNotReported() => V.AnalyzerAsync(
        """
        using Mesh;
        namespace Game { [MeshActor("game")] public interface IRoom : IMeshActor { } }
        namespace Lobby { [MeshActor("chat")] public interface IRoom : IMeshActor { } }
        """);

    [Fact]
    public Task DifferentNamesWithTheSameCapabilityAreNotReported() => V.AnalyzerAsync(
        """
        using Mesh;
        namespace Game { [MeshActor("chat")] public interface IGameRoom : IMeshActor { } }
        namespace Lobby { [MeshActor("chat")] public interface ILobbyRoom : IMeshActor { } }
        """);
}
