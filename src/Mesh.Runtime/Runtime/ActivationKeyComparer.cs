namespace Mesh.Runtime;

/// <summary>An actor's id as an owner reads it from a call: its contract's capability and actor type, and the key's
/// characters decoded into a buffer that is not a string yet.</summary>
internal readonly ref struct ActivationKey(string capability, string actorType, ReadOnlySpan<char> key)
{
    public string Capability { get; } = capability;

    public string ActorType { get; } = actorType;

    public ReadOnlySpan<char> Key { get; } = key;
}

/// <summary>
/// Compares the ids of the activation table ordinally, as <see cref="ActorId.Equals(ActorId)"/> does, and also finds
/// an entry by an <see cref="ActivationKey"/>, so a remote call to an active actor is routed to it without allocating
/// its key string. Hashes the key only: ids of one node rarely share a key across actor types.
/// </summary>
internal sealed class ActivationKeyComparer : IEqualityComparer<ActorId>, IAlternateEqualityComparer<ActivationKey, ActorId>
{
    public static readonly ActivationKeyComparer Instance = new();

    public bool Equals(ActorId x, ActorId y) => x.Equals(y);

    public int GetHashCode(ActorId obj) => obj.Key is null ? 0 : string.GetHashCode(obj.Key.AsSpan(), StringComparison.Ordinal);

    public bool Equals(ActivationKey alternate, ActorId other) =>
        alternate.Key.SequenceEqual(other.Key)
        && string.Equals(alternate.ActorType, other.ActorType, StringComparison.Ordinal)
        && string.Equals(alternate.Capability, other.Capability, StringComparison.Ordinal);

    public int GetHashCode(ActivationKey alternate) => string.GetHashCode(alternate.Key, StringComparison.Ordinal);

    public ActorId Create(ActivationKey alternate) => new(alternate.Capability, alternate.ActorType, alternate.Key.ToString());
}
