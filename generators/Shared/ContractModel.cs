namespace Mesh.CodeAnalysis;

/// <summary>A valid actor contract as plain, equatable data: everything the generator needs, no symbols.</summary>
/// <param name="Namespace">The interface's namespace, empty for the global namespace.</param>
/// <param name="Name">The interface's simple name, for example <c>ICounter</c>.</param>
/// <param name="TypeName">The interface as generated code spells it, with <c>global::</c>.</param>
/// <param name="MemberPrefix">The prefix of generated type names: the interface name, after its containing types.</param>
/// <param name="ProxyName">The generated proxy's name.</param>
/// <param name="Capability">The capability from <c>[MeshActor]</c>.</param>
/// <param name="Methods">The methods, own and inherited, in declaration order.</param>
internal sealed record ContractModel(
    string Namespace,
    string Name,
    string TypeName,
    string MemberPrefix,
    string ProxyName,
    string Capability,
    EquatableArray<MethodModel> Methods)
{
    /// <summary>Gets the name of the static class that registers the contract's formatters and proxy.</summary>
    public string RegistrationName => MemberPrefix + "_MeshContract";

    /// <summary>Gets the generated type names prefixed with the namespace, for the registration code.</summary>
    public string Qualify(string generatedName) => Namespace.Length == 0 ? "global::" + generatedName : "global::" + Namespace + "." + generatedName;
}

/// <summary>How a contract method returns.</summary>
internal enum ReturnKind
{
    /// <summary><c>ValueTask</c>.</summary>
    ValueTask,

    /// <summary><c>ValueTask&lt;T&gt;</c>.</summary>
    ValueTaskOfT,

    /// <summary><c>Task</c>.</summary>
    Task,

    /// <summary><c>Task&lt;T&gt;</c>.</summary>
    TaskOfT,
}

/// <summary>How a value is written with MemoryPack.</summary>
internal enum WireKind
{
    /// <summary>An unmanaged type, copied as bytes (<c>WriteUnmanaged</c>).</summary>
    Unmanaged,

    /// <summary>A string (<c>WriteString</c>).</summary>
    String,

    /// <summary>Anything else, through its registered formatter (<c>WriteValue</c>).</summary>
    Value,
}

/// <summary>One method of a contract.</summary>
/// <param name="Name">The method name.</param>
/// <param name="DeclaringType">The interface that declares it, with <c>global::</c>.</param>
/// <param name="ReturnKind">How it returns.</param>
/// <param name="ReturnType">The declared return type, with <c>global::</c>.</param>
/// <param name="ResultType">The result type for <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c>, otherwise <see langword="null"/>.</param>
/// <param name="ResultWireKind">How the result is written.</param>
/// <param name="IsOneWay">Whether the method is <c>[OneWay]</c>.</param>
/// <param name="Id">The stable method id.</param>
/// <param name="IdText">The text the id hashes.</param>
/// <param name="TypePrefix">The prefix of this method's generated request and response types.</param>
/// <param name="Parameters">The serialized parameters, without the cancellation token.</param>
/// <param name="CancellationTokenName">The name of the trailing <c>CancellationToken</c> parameter, or <see langword="null"/>.</param>
internal sealed record MethodModel(
    string Name,
    string DeclaringType,
    ReturnKind ReturnKind,
    string ReturnType,
    string? ResultType,
    WireKind ResultWireKind,
    bool IsOneWay,
    uint Id,
    string IdText,
    string TypePrefix,
    EquatableArray<ParameterModel> Parameters,
    string? CancellationTokenName)
{
    /// <summary>Gets the generated request struct's name.</summary>
    public string RequestName => TypePrefix + "_Request";

    /// <summary>Gets the generated response struct's name.</summary>
    public string ResponseName => TypePrefix + "_Response";

    /// <summary>Gets the type the request's <c>InvokeAsync</c> produces.</summary>
    public string ResponseType => ResultType ?? "global::Mesh.Infrastructure.VoidResponse";
}

/// <summary>One serialized parameter of a contract method.</summary>
/// <param name="Name">The parameter name, escaped when it is a keyword.</param>
/// <param name="Type">Its type, with <c>global::</c> and nullable annotations.</param>
/// <param name="WireKind">How it is written.</param>
/// <param name="DefaultValue">Its default value as C#, or <see langword="null"/>.</param>
internal sealed record ParameterModel(string Name, string Type, WireKind WireKind, string? DefaultValue);
