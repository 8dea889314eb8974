// Actor classes with one mistake each; see Contracts.cs.
using System.Threading.Tasks;
using Mesh;

namespace Mistakes;

[MeshActor("counter")]
public interface ICounter : IMeshActor
{
    ValueTask<int> GetAsync();
}

public sealed class Counter : ICounter
{
    private static int s_total;

    public ValueTask<int> GetAsync() => new(Task.FromResult(++s_total).Result);
}

public sealed class SecondCounter : ICounter
{
    public ValueTask<int> GetAsync() => new(0);
}

public abstract class CounterBase : ICounter
{
    public abstract ValueTask<int> GetAsync();
}
