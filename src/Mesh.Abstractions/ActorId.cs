namespace Mesh;

/// <summary>
/// Identifies one actor: its capability, its contract's interface name and the key the caller passed to
/// <see cref="IMesh.GetActor{T}(string)"/>.
/// </summary>
public readonly struct ActorId : IEquatable<ActorId>
{
    /// <summary>Initializes a new instance of the <see cref="ActorId"/> struct.</summary>
    /// <param name="capability">The capability of the actor's contract.</param>
    /// <param name="actorType">The name of the actor's contract interface, for example <c>ICounter</c>.</param>
    /// <param name="key">The key the caller passed to <see cref="IMesh.GetActor{T}(string)"/>.</param>
    /// <exception cref="ArgumentException">An argument is null or empty.</exception>
    public ActorId(string capability, string actorType, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(capability);
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ArgumentException.ThrowIfNullOrEmpty(key);
        Capability = capability;
        ActorType = actorType;
        Key = key;
    }

    /// <summary>Gets the capability of the actor's contract.</summary>
    public string Capability { get; }

    /// <summary>Gets the name of the actor's contract interface.</summary>
    public string ActorType { get; }

    /// <summary>Gets the key the caller passed to <see cref="IMesh.GetActor{T}(string)"/>.</summary>
    public string Key { get; }

    /// <summary>Determines whether two ids are equal.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> when capability, actor type and key are equal.</returns>
    public static bool operator ==(ActorId left, ActorId right) => left.Equals(right);

    /// <summary>Determines whether two ids differ.</summary>
    /// <param name="left">The first id.</param>
    /// <param name="right">The second id.</param>
    /// <returns><see langword="true"/> when capability, actor type or key differ.</returns>
    public static bool operator !=(ActorId left, ActorId right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(ActorId other) =>
        string.Equals(Key, other.Key, StringComparison.Ordinal)
        && string.Equals(ActorType, other.ActorType, StringComparison.Ordinal)
        && string.Equals(Capability, other.Capability, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ActorId other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(
        Key is null ? 0 : string.GetHashCode(Key, StringComparison.Ordinal),
        ActorType is null ? 0 : string.GetHashCode(ActorType, StringComparison.Ordinal),
        Capability is null ? 0 : string.GetHashCode(Capability, StringComparison.Ordinal));

    /// <summary>Returns <c>capability/ActorType/key</c>.</summary>
    /// <returns>The id as text.</returns>
    public override string ToString() => $"{Capability}/{ActorType}/{Key}";
}
