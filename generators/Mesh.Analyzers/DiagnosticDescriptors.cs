using Microsoft.CodeAnalysis;

namespace Mesh.Analyzers;

/// <summary>Every diagnostic Mesh reports. IDs are stable once shipped; each has a page in docs/diagnostics.</summary>
internal static class DiagnosticDescriptors
{
    private const string Usage = "Usage";
    private const string Reliability = "Reliability";
    private const string HelpLinkFormat = "https://github.com/mesh-sdk/mesh/blob/main/docs/diagnostics/{0}.md";

    public static readonly DiagnosticDescriptor NotAnInterface = Create(
        "MESH0001", "[MeshActor] is only valid on interfaces",
        "'{0}' is not an interface: put [MeshActor] on the actor contract interface that '{0}' implements",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor InvalidCapability = Create(
        "MESH0002", "Capability name is not valid",
        "Capability '{0}' is not valid: use a non-empty lower-case name matching ^[a-z][a-z0-9_.-]*$, for example \"counter\"",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Create(
        "MESH0003", "Actor method must return a task",
        "Actor method '{0}' returns '{1}': return ValueTask, ValueTask<T>, Task or Task<T>, for example {2}",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor OneWayReturnsValue = Create(
        "MESH0004", "[OneWay] method must not return a value",
        "[OneWay] method '{0}' returns '{1}': a one-way call has no result; return ValueTask, or remove [OneWay]",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor NotSerializable = Create(
        "MESH0005", "Type cannot be serialized",
        "{0} has type '{1}', which MemoryPack cannot serialize: {2}",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnsupportedParameter = Create(
        "MESH0006", "Parameter kind is not supported",
        "Parameter '{0}' of actor method '{1}' is {2}: actor calls cross the network, so pass values and return results instead",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor UnsupportedMember = Create(
        "MESH0007", "Actor contract member is not supported",
        "'{0}' is {1}: actor contracts contain only non-generic methods; replace it with a method returning a task",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor CancellationTokenPosition = Create(
        "MESH0008", "CancellationToken must be the last parameter",
        "Parameter '{0}' of actor method '{1}' is {2}: take at most one CancellationToken, as the last parameter",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor DuplicateMethodId = Create(
        "MESH0009", "Two methods would get the same method id",
        "Actor methods '{0}' and '{1}' of '{2}' get the same method id: give one of them a distinct [MethodAlias]",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor DuplicateImplementation = Create(
        "MESH0010", "Two classes implement the same actor contract",
        "'{0}' and '{1}' both implement actor contract '{2}': keep one implementation per contract",
        Usage, DiagnosticSeverity.Error, compilationEnd: true);

    public static readonly DiagnosticDescriptor NotActivatable = Create(
        "MESH0011", "Actor class cannot be created",
        "Actor class '{0}' {1}: the runtime creates actors through dependency injection, so make it a concrete, non-generic, public or internal class with a public constructor",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor ContractNotGeneratable = Create(
        "MESH0015", "Actor contract must be a non-generic interface visible to its assembly",
        "Actor contract '{0}' {1}: Mesh generates its proxy and messages in the same assembly, so make it a non-generic public or internal interface",
        Usage, DiagnosticSeverity.Error);

    public static readonly DiagnosticDescriptor BlockingWait = Create(
        "MESH0012", "Blocking on a task in an actor",
        "'{0}' blocks the actor's turn and can deadlock it: use await",
        Reliability, DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor ContractNameCollision = Create(
        "MESH0013", "Two contracts share a name and a capability",
        "Actor contracts '{0}' and '{1}' have the same name and capability '{2}', so their actor ids collide: rename one or change its capability",
        Usage, DiagnosticSeverity.Warning, compilationEnd: true);

    public static readonly DiagnosticDescriptor MutableStaticState = Create(
        "MESH0014", "Actor keeps mutable static state",
        "Actor class '{0}' keeps mutable static state in '{1}', shared by every activation on this node and by none on other nodes: use an instance field",
        Reliability, DiagnosticSeverity.Info);

    private static DiagnosticDescriptor Create(
        string id, string title, string messageFormat, string category, DiagnosticSeverity severity, bool compilationEnd = false) =>
        new(
            id,
            title,
            messageFormat,
            category,
            severity,
            isEnabledByDefault: true,
            description: null,
            helpLinkUri: string.Format(System.Globalization.CultureInfo.InvariantCulture, HelpLinkFormat, id),
            customTags: compilationEnd ? [WellKnownDiagnosticTags.CompilationEnd] : []);
}
