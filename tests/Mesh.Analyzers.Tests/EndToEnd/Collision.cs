// Two contracts whose actor ids collide; see Contracts.cs.
using Mesh;

namespace Lobby
{
    [MeshActor("chat")]
    public interface IRoom : IMeshActor
    {
    }
}

namespace Game
{
    [MeshActor("chat")]
    public interface IRoom : IMeshActor
    {
    }
}
