using System.ComponentModel;

namespace Mesh.Infrastructure;

/// <summary>Describes one method of an actor contract, as the generated dispatcher knows it.</summary>
/// <param name="Id">The method's stable id.</param>
/// <param name="Name">The method's name.</param>
/// <param name="IsOneWay">Whether the method is a <see cref="OneWayAttribute">one-way</see> cast.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct ActorMethod(uint Id, string Name, bool IsOneWay);
