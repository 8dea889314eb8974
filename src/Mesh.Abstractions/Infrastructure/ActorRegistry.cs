using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace Mesh.Infrastructure;

/// <summary>
/// The process-wide list of actor contracts and implementations, filled by the <c>[ModuleInitializer]</c> the
/// Mesh generator emits in every assembly that declares or implements actors. Nothing is found by scanning.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ActorRegistry
{
    // Registration happens in module initializers, possibly on several threads; reads happen at host start.
    // Neither is on a call path, so a plain lock keeps it simple.
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<Type, ActorContract> s_contracts = [];
    private static readonly Dictionary<Type, ActorImplementation> s_implementations = [];

    /// <summary>Registers a contract. Registering the same interface again has no effect.</summary>
    /// <typeparam name="TActor">The contract interface.</typeparam>
    /// <param name="contract">The contract.</param>
    public static void RegisterContract<TActor>(ActorContract<TActor> contract)
        where TActor : class, IMeshActor
    {
        ArgumentNullException.ThrowIfNull(contract);
        lock (s_gate)
        {
            if (s_contracts.TryAdd(typeof(TActor), contract))
            {
                contract.Publish();
            }
        }
    }

    /// <summary>Registers the implementation class of a contract.</summary>
    /// <typeparam name="TActor">The contract interface.</typeparam>
    /// <typeparam name="TImplementation">The class implementing it.</typeparam>
    /// <param name="isReentrant">Whether the class is marked <see cref="ReentrantAttribute"/>.</param>
    /// <exception cref="InvalidOperationException">Another class is already registered for the contract.</exception>
    public static void RegisterImplementation<TActor, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(bool isReentrant)
        where TActor : class, IMeshActor
        where TImplementation : class, TActor
    {
        ActorContract<TActor> contract = ActorContract<TActor>.Get();
        lock (s_gate)
        {
            if (s_implementations.TryGetValue(typeof(TActor), out ActorImplementation? existing))
            {
                if (existing.ImplementationType == typeof(TImplementation))
                {
                    return;
                }

                throw new InvalidOperationException(
                    $"Both {existing.ImplementationType.FullName} and {typeof(TImplementation).FullName} implement the actor contract {typeof(TActor).FullName}; keep one.");
            }

            s_implementations.Add(typeof(TActor), new ActorImplementation(contract, typeof(TImplementation), isReentrant));
        }
    }

    /// <summary>Gets a snapshot of the registered contracts.</summary>
    /// <returns>The contracts, in no particular order.</returns>
    public static IReadOnlyList<ActorContract> GetContracts()
    {
        lock (s_gate)
        {
            return [.. s_contracts.Values];
        }
    }

    /// <summary>Gets a snapshot of the registered implementations.</summary>
    /// <returns>The implementations, in no particular order.</returns>
    public static IReadOnlyList<ActorImplementation> GetImplementations()
    {
        lock (s_gate)
        {
            return [.. s_implementations.Values];
        }
    }
}
