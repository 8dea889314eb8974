// A contract with one mistake per line. EndToEndTests builds this project with `dotnet build` and expects
// each MESH id at the line that carries it; keep the lines where they are, or update the test.
// MESH0001 is not here: [MeshActor] on a class is also the compiler's error CS0592, and csc reports no analyzer
// diagnostics once the compilation has errors, so a command-line build shows CS0592 alone (the IDE shows both).
using System.Threading;
using System.Threading.Tasks;
using Mesh;

namespace Mistakes;

public sealed class PlayerState
{
    public int Score { get; set; }
}

[MeshActor("Game Server")]
public interface IGame : IMeshActor
{
    int Score();
    [OneWay] ValueTask<int> ResetAsync();
    ValueTask SaveAsync(PlayerState state);
    ValueTask SwapAsync(ref int value);
    int Count { get; }
    ValueTask LoadAsync(CancellationToken ct, string name);
    [MethodAlias("get")] ValueTask<int> GetAsync();
    [MethodAlias("get")] ValueTask<int> GetAsync(string key);
}

[MeshActor("cache")]
public interface ICache<T> : IMeshActor
{
    ValueTask<T> GetAsync();
}
