namespace Mesh;

/// <summary>
/// Pins the wire identity of an actor method. Without it a method's id is a stable hash of its name and parameter
/// types, so renaming the method or changing a parameter type changes the id; with it, only the alias counts.
/// </summary>
/// <remarks>Use it to rename a method while nodes running the old name are still in the cluster.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class MethodAliasAttribute : Attribute
{
    /// <summary>Initializes a new instance of the <see cref="MethodAliasAttribute"/> class.</summary>
    /// <param name="alias">The name hashed into the method id instead of the method's signature.</param>
    public MethodAliasAttribute(string alias)
    {
        Alias = alias;
    }

    /// <summary>Gets the name hashed into the method id.</summary>
    public string Alias { get; }
}
