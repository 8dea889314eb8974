namespace Mesh;

/// <summary>Marker interface every Mesh actor contract derives from.</summary>
public interface IMeshActor
{
}
