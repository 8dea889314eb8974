using Microsoft.CodeAnalysis;

namespace Mesh.CodeAnalysis;

/// <summary>One reason a contract is invalid: an analyzer turns it into a diagnostic, the generator skips the contract.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Location">Where: the member, parameter or return type at fault.</param>
/// <param name="Subject">The name the diagnostic message shows: the member, or the parameter when <paramref name="Method"/> is set.</param>
/// <param name="Detail">What is wrong with the subject, for the message: the return type (MESH0003, MESH0004), the offending type
/// (MESH0005), the kind of parameter or member (MESH0006, MESH0007, MESH0008), or the signature of the colliding method (MESH0009).</param>
/// <param name="TypeId">For <see cref="ContractProblemKind.NotSerializable"/>, the documentation id of a source type a code fix can make serializable.</param>
/// <param name="Method">When the subject is a parameter, the method that declares it; otherwise <see langword="null"/>.</param>
internal sealed record ContractProblem(
    ContractProblemKind Kind, Location Location, string Subject, string? Detail = null, string? TypeId = null, string? Method = null);
