using Microsoft.CodeAnalysis;

namespace Mesh.CodeAnalysis;

/// <summary>One reason a contract is invalid: an analyzer turns it into a diagnostic, the generator skips the contract.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Location">Where: the member, parameter or return type at fault.</param>
/// <param name="Subject">The name the diagnostic message shows (method, parameter or type).</param>
/// <param name="Detail">A second name for the message (the colliding method, the offending type), or <see langword="null"/>.</param>
/// <param name="TypeId">For <see cref="ContractProblemKind.NotSerializable"/>, the documentation id of a source type a code fix can make serializable.</param>
internal sealed record ContractProblem(ContractProblemKind Kind, Location Location, string Subject, string? Detail = null, string? TypeId = null);
