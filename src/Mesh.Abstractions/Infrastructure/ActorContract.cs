using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace Mesh.Infrastructure;

/// <summary>
/// What the generator knows about one actor contract: its capability, its name, its dispatcher and how to make a
/// proxy. Generated code registers one per <see cref="MeshActorAttribute"/> interface through
/// <see cref="ActorRegistry.RegisterContract{TActor}"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class ActorContract
{
    private protected ActorContract(Type interfaceType, string capability, IActorDispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(interfaceType);
        ArgumentException.ThrowIfNullOrEmpty(capability);
        ArgumentNullException.ThrowIfNull(dispatcher);
        InterfaceType = interfaceType;
        Capability = capability;
        ActorType = interfaceType.Name;
        Dispatcher = dispatcher;
    }

    /// <summary>Gets the contract interface.</summary>
    public Type InterfaceType { get; }

    /// <summary>Gets the capability from the contract's <see cref="MeshActorAttribute"/>.</summary>
    public string Capability { get; }

    /// <summary>Gets the interface's name, the <see cref="ActorId.ActorType"/> of its actors.</summary>
    public string ActorType { get; }

    /// <summary>Gets the generated dispatch table.</summary>
    public IActorDispatcher Dispatcher { get; }

    /// <summary>Creates a proxy for <paramref name="reference"/>.</summary>
    /// <param name="reference">The runtime's handle to the actor.</param>
    /// <returns>A proxy implementing <see cref="InterfaceType"/>.</returns>
    public abstract IMeshActor CreateProxy(ActorReference reference);

    /// <summary>Makes an id for an actor of this contract.</summary>
    /// <param name="key">The actor's key.</param>
    /// <returns>The id.</returns>
    public ActorId CreateId(string key) => new(Capability, ActorType, key);
}

/// <summary>The contract of actor interface <typeparamref name="TActor"/>.</summary>
/// <typeparam name="TActor">The contract interface.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ActorContract<TActor> : ActorContract
    where TActor : class, IMeshActor
{
    // Written once per process by the generated module initializer, read by every GetActor<TActor>.
    private static ActorContract<TActor>? s_registered;

    private readonly Func<ActorReference, TActor> _proxyFactory;

    /// <summary>Initializes a new instance of the <see cref="ActorContract{TActor}"/> class.</summary>
    /// <param name="capability">The capability from the contract's attribute.</param>
    /// <param name="dispatcher">The generated dispatch table.</param>
    /// <param name="proxyFactory">Creates the generated proxy.</param>
    public ActorContract(string capability, IActorDispatcher dispatcher, Func<ActorReference, TActor> proxyFactory)
        : base(typeof(TActor), capability, dispatcher)
    {
        ArgumentNullException.ThrowIfNull(proxyFactory);
        _proxyFactory = proxyFactory;
    }

    /// <summary>
    /// Gets the registered contract of <typeparamref name="TActor"/>, running the module initializer of the
    /// interface's assembly first if nothing from that assembly has run yet.
    /// </summary>
    /// <returns>The contract.</returns>
    /// <exception cref="InvalidOperationException">The Mesh generator did not process <typeparamref name="TActor"/>.</exception>
    public static ActorContract<TActor> Get()
    {
        ActorContract<TActor>? contract = Volatile.Read(ref s_registered);
        if (contract is not null)
        {
            return contract;
        }

        RuntimeHelpers.RunModuleConstructor(typeof(TActor).Module.ModuleHandle);
        return Volatile.Read(ref s_registered) ?? throw new InvalidOperationException(
            $"{typeof(TActor).FullName} is not a Mesh actor contract: mark it [MeshActor(\"capability\")] and make sure its project references Mesh.Sdk, so that the Mesh generator emits its proxy.");
    }

    /// <summary>Creates the typed proxy for <paramref name="reference"/>.</summary>
    /// <param name="reference">The runtime's handle to the actor.</param>
    /// <returns>The proxy.</returns>
    public TActor CreateTypedProxy(ActorReference reference) => _proxyFactory(reference);

    /// <inheritdoc/>
    public override IMeshActor CreateProxy(ActorReference reference) => _proxyFactory(reference);

    internal void Publish() => Volatile.Write(ref s_registered, this);
}
