namespace Mesh.CodeAnalysis;

/// <summary>What can be wrong with an actor contract's members.</summary>
internal enum ContractProblemKind
{
    /// <summary>The return type is not <c>Task</c>, <c>Task&lt;T&gt;</c>, <c>ValueTask</c> or <c>ValueTask&lt;T&gt;</c> (MESH0003).</summary>
    UnsupportedReturnType,

    /// <summary>A <c>[OneWay]</c> method returns a value (MESH0004).</summary>
    OneWayWithResult,

    /// <summary>A parameter or result type MemoryPack cannot serialize (MESH0005).</summary>
    NotSerializable,

    /// <summary>A <c>ref</c>, <c>out</c>, <c>in</c>, pointer or <c>params</c> span parameter (MESH0006).</summary>
    UnsupportedParameter,

    /// <summary>A generic method, property, event, indexer or static member (MESH0007).</summary>
    UnsupportedMember,

    /// <summary>A <c>CancellationToken</c> that is not last, or more than one (MESH0008).</summary>
    CancellationTokenPosition,

    /// <summary>Two methods that get the same method id (MESH0009).</summary>
    MethodIdCollision,
}
