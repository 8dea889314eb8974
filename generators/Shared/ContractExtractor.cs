using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Mesh.CodeAnalysis;

/// <summary>Reads an actor contract from its interface symbol: the one place that decides what a valid contract is,
/// shared by the generator (which emits code for valid contracts) and the analyzers (which report the problems).</summary>
internal static class ContractExtractor
{
    /// <summary>The most parameters (besides a cancellation token) a request message holds: MemoryPack's member limit.
    /// The MESH0006 message for the parameter after the last one spells the number out.</summary>
    private const int MaxParameters = 249;

    /// <summary>Prints a method as <c>Name(Type1, Type2)</c> for messages about overloads.</summary>
    private static readonly SymbolDisplayFormat SignatureFormat = new(
        memberOptions: SymbolDisplayMemberOptions.IncludeParameters,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>Describes <paramref name="contract"/>, collecting every member problem.</summary>
    /// <param name="contract">An interface marked <c>[MeshActor]</c>.</param>
    /// <param name="symbols">The Mesh types of the compilation.</param>
    /// <param name="problems">Receives the member problems; may be <see langword="null"/> when only validity matters.</param>
    /// <returns>The model, or <see langword="null"/> when the contract cannot be generated: it is not a non-generic interface,
    /// its capability is invalid, it is not accessible to generated code, or it has member problems.</returns>
    public static ContractModel? Extract(INamedTypeSymbol contract, MeshSymbols symbols, List<ContractProblem>? problems)
    {
        if (contract.TypeKind != TypeKind.Interface || contract.IsGenericType || !MeshSymbols.IsVisibleToGeneratedCode(contract))
        {
            return null;
        }

        string? capability = MeshSymbols.StringArgument(symbols.GetMeshActorAttribute(contract));
        bool valid = CapabilityName.IsValid(capability);

        var candidates = new List<IMethodSymbol>();
        problems ??= [];
        int problemsBefore = problems.Count;
        foreach (INamedTypeSymbol declaring in Enumerable.Repeat(contract, 1).Concat(contract.AllInterfaces))
        {
            foreach (ISymbol member in declaring.GetMembers())
            {
                CollectMember(contract, member, candidates, problems);
            }
        }

        var methods = new List<MethodModel>(candidates.Count);
        var names = new Dictionary<string, int>();
        foreach (IMethodSymbol method in candidates)
        {
            names[method.Name] = names.TryGetValue(method.Name, out int count) ? count + 1 : 1;
        }

        string prefix = MemberPrefix(contract);
        var ids = new Dictionary<uint, IMethodSymbol>();
        foreach (IMethodSymbol method in candidates)
        {
            MethodModel? model = ExtractMethod(contract, method, symbols, prefix, names[method.Name] > 1, problems);
            if (model is null)
            {
                continue;
            }

            if (ids.TryGetValue(model.Id, out IMethodSymbol? first))
            {
                problems.Add(new ContractProblem(ContractProblemKind.MethodIdCollision, LocationOf(method, contract), Signature(method), Signature(first)));
                continue;
            }

            ids.Add(model.Id, method);
            methods.Add(model);
        }

        if (!valid || problems.Count != problemsBefore)
        {
            return null;
        }

        string ns = contract.ContainingNamespace.IsGlobalNamespace ? string.Empty : contract.ContainingNamespace.ToDisplayString();
        return new ContractModel(
            ns,
            contract.Name,
            CSharpText.Type(contract),
            prefix,
            ProxyName(contract, prefix),
            capability!,
            new EquatableArray<MethodModel>(methods));
    }

    private static void CollectMember(INamedTypeSymbol contract, ISymbol member, List<IMethodSymbol> candidates, List<ContractProblem> problems)
    {
        switch (member)
        {
            case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
                if (method.IsStatic)
                {
                    if (method.IsAbstract || method.IsVirtual)
                    {
                        problems.Add(new ContractProblem(ContractProblemKind.UnsupportedMember, LocationOf(method, contract), method.Name, "static abstract member"));
                    }
                }
                else if (method.IsAbstract)
                {
                    candidates.Add(method);
                }

                break;
            case IPropertySymbol property when property.IsAbstract || property.IsVirtual:
                problems.Add(new ContractProblem(ContractProblemKind.UnsupportedMember, LocationOf(property, contract), property.IsIndexer ? "this[]" : property.Name, property.IsIndexer ? "indexer" : "property"));
                break;
            case IEventSymbol @event when @event.IsAbstract || @event.IsVirtual:
                problems.Add(new ContractProblem(ContractProblemKind.UnsupportedMember, LocationOf(@event, contract), @event.Name, "event"));
                break;
        }
    }

    private static MethodModel? ExtractMethod(INamedTypeSymbol contract, IMethodSymbol method, MeshSymbols symbols, string prefix, bool overloaded, List<ContractProblem> problems)
    {
        int before = problems.Count;
        Location location = LocationOf(method, contract);
        if (method.IsGenericMethod)
        {
            // Nothing else about a generic method matters (its type parameters would only add MESH0005 noise).
            problems.Add(new ContractProblem(ContractProblemKind.UnsupportedMember, location, method.Name, "generic method"));
            return null;
        }

        ReturnKind returnKind = default;
        ITypeSymbol? resultType = null;
        INamedTypeSymbol? returnType = method.ReturnType as INamedTypeSymbol;
        INamedTypeSymbol? returnDefinition = returnType?.OriginalDefinition;
        if (Same(returnDefinition, symbols.ValueTask))
        {
            returnKind = ReturnKind.ValueTask;
        }
        else if (Same(returnDefinition, symbols.Task))
        {
            returnKind = ReturnKind.Task;
        }
        else if (Same(returnDefinition, symbols.ValueTaskOfT))
        {
            returnKind = ReturnKind.ValueTaskOfT;
            resultType = returnType!.TypeArguments[0];
        }
        else if (Same(returnDefinition, symbols.TaskOfT))
        {
            returnKind = ReturnKind.TaskOfT;
            resultType = returnType!.TypeArguments[0];
        }
        else
        {
            problems.Add(new ContractProblem(ContractProblemKind.UnsupportedReturnType, ReturnTypeLocation(method, contract), method.Name, method.ReturnType.ToDisplayString()));
        }

        bool isOneWay = MeshSymbols.FindAttribute(method, symbols.OneWayAttribute) is not null;
        if (isOneWay && resultType is not null)
        {
            problems.Add(new ContractProblem(ContractProblemKind.OneWayWithResult, ReturnTypeLocation(method, contract), method.Name, method.ReturnType.ToDisplayString()));
        }

        if (resultType is not null)
        {
            CheckSerializable(resultType, ReturnTypeLocation(method, contract), method.Name, null, problems);
        }

        var parameters = new List<ParameterModel>(method.Parameters.Length);
        var idTypes = new List<string>(method.Parameters.Length);
        string? cancellationTokenName = null;
        bool tooMany = false;
        for (int i = 0; i < method.Parameters.Length; i++)
        {
            IParameterSymbol parameter = method.Parameters[i];
            Location parameterLocation = LocationOf(parameter, contract);
            if (Same(parameter.Type, symbols.CancellationToken))
            {
                if (cancellationTokenName is not null || i != method.Parameters.Length - 1)
                {
                    string detail = cancellationTokenName is not null ? "a second CancellationToken" : "a CancellationToken before other parameters";
                    problems.Add(new ContractProblem(ContractProblemKind.CancellationTokenPosition, parameterLocation, parameter.Name, detail, Method: method.Name));
                }

                cancellationTokenName = parameter.Name;
                continue;
            }

            if (UnsupportedParameterKind(parameter) is { } kind)
            {
                problems.Add(new ContractProblem(ContractProblemKind.UnsupportedParameter, parameterLocation, parameter.Name, kind, Method: method.Name));
                continue;
            }

            if (parameters.Count == MaxParameters)
            {
                // Reported once, at the first parameter too many.
                if (!tooMany)
                {
                    problems.Add(new ContractProblem(
                        ContractProblemKind.UnsupportedParameter, parameterLocation, parameter.Name, "beyond the 249 parameters a message can carry", Method: method.Name));
                    tooMany = true;
                }

                continue;
            }

            CheckSerializable(parameter.Type, parameterLocation, parameter.Name, method.Name, problems);
            parameters.Add(new ParameterModel(CSharpText.Identifier(parameter.Name), CSharpText.Type(parameter.Type), WireKindOf(parameter.Type), CSharpText.DefaultValue(parameter)));
            idTypes.Add(CSharpText.IdType(parameter.Type));
        }

        if (problems.Count != before)
        {
            return null;
        }

        string? alias = MeshSymbols.StringArgument(MeshSymbols.FindAttribute(method, symbols.MethodAliasAttribute)) is { Length: > 0 } text ? text : null;
        string idText = alias ?? MethodIds.SignatureText(method.Name, idTypes);
        uint id = MethodIds.Hash(idText);
        string typePrefix = prefix + "_" + method.Name + (overloaded ? "_" + id.ToString("X8", CultureInfo.InvariantCulture) : string.Empty);
        return new MethodModel(
            method.Name,
            CSharpText.Type(method.ContainingType),
            returnKind,
            CSharpText.Type(method.ReturnType),
            resultType is null ? null : CSharpText.Type(resultType),
            resultType is null ? WireKind.Unmanaged : WireKindOf(resultType),
            isOneWay,
            id,
            idText,
            typePrefix,
            new EquatableArray<ParameterModel>(parameters),
            cancellationTokenName is null ? null : CSharpText.Identifier(cancellationTokenName));
    }

    /// <summary>Says what makes <paramref name="parameter"/> unable to cross the network, in words that follow "is".</summary>
    private static string? UnsupportedParameterKind(IParameterSymbol parameter)
    {
        switch (parameter.RefKind)
        {
            case RefKind.Ref:
                return "a ref parameter";
            case RefKind.Out:
                return "an out parameter";
            case RefKind.In:
                return "an in parameter";
            case RefKind.None:
                break;
            default:
                return "a ref readonly parameter";
        }

        return parameter.Type switch
        {
            IPointerTypeSymbol or IFunctionPointerTypeSymbol => "a pointer",
            { IsRefLikeType: true } => (parameter.IsParams ? "a params " : "a ") + "ref struct '" + parameter.Type.ToDisplayString() + "'",
            _ => null,
        };
    }

    private static string Signature(IMethodSymbol method) => method.ToDisplayString(SignatureFormat);

    private static void CheckSerializable(ITypeSymbol type, Location location, string subject, string? method, List<ContractProblem> problems)
    {
        if (Serializability.FindUnserializable(type) is not { } bad)
        {
            return;
        }

        // Declared in this compilation's source (a tuple also has source locations, but no declaration to fix).
        string? typeId = bad is INamedTypeSymbol { TypeKind: TypeKind.Class or TypeKind.Struct, IsTupleType: false } named
            && named.OriginalDefinition.DeclaringSyntaxReferences.Length > 0
            ? DocumentationCommentId.CreateDeclarationId(named.OriginalDefinition)
            : null;
        problems.Add(new ContractProblem(ContractProblemKind.NotSerializable, location, subject, bad.ToDisplayString(), typeId, method));
    }

    private static WireKind WireKindOf(ITypeSymbol type)
        => type.SpecialType == SpecialType.System_String ? WireKind.String
        : type.IsUnmanagedType && type.TypeKind != TypeKind.Pointer && !HoldsNullable(type, depth: 0) ? WireKind.Unmanaged
        : WireKind.Value;

    /// <summary>
    /// Whether <paramref name="type"/> is or holds (in an instance field, at any depth) a <c>Nullable&lt;T&gt;</c>.
    /// Roslyn counts <c>int?</c> as an unmanaged type, but C#'s <c>unmanaged</c> constraint, which MemoryPack's
    /// <c>WriteUnmanaged</c> and <c>ReadUnmanaged</c> carry, refuses it: such members are written with <c>WriteValue</c>.
    /// </summary>
    private static bool HoldsNullable(ITypeSymbol type, int depth)
    {
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T)
        {
            return true;
        }

        if (type.TypeKind != TypeKind.Struct || type.SpecialType != SpecialType.None || depth > 16)
        {
            return false;
        }

        foreach (ISymbol member in type.GetMembers())
        {
            if (member is IFieldSymbol { IsStatic: false } field && HoldsNullable(field.Type, depth + 1))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Same(ISymbol? a, ISymbol? b) => b is not null && SymbolEqualityComparer.Default.Equals(a, b);


    private static string MemberPrefix(INamedTypeSymbol contract)
    {
        string prefix = contract.Name;
        for (INamedTypeSymbol? outer = contract.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            prefix = outer.Name + "_" + prefix;
        }

        return prefix;
    }

    private static string ProxyName(INamedTypeSymbol contract, string prefix)
    {
        string name = contract.Name.Length > 1 && contract.Name[0] == 'I' && char.IsUpper(contract.Name[1]) ? contract.Name.Substring(1) : contract.Name;
        return prefix.Substring(0, prefix.Length - contract.Name.Length) + name + "Proxy";
    }

    private static Location LocationOf(ISymbol symbol, INamedTypeSymbol contract)
    {
        foreach (Location location in symbol.Locations)
        {
            if (location.IsInSource)
            {
                return location;
            }
        }

        return contract.Locations.FirstOrDefault(l => l.IsInSource) ?? Location.None;
    }

    private static Location ReturnTypeLocation(IMethodSymbol method, INamedTypeSymbol contract)
    {
        foreach (SyntaxReference reference in method.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is MethodDeclarationSyntax declaration)
            {
                return declaration.ReturnType.GetLocation();
            }
        }

        return LocationOf(method, contract);
    }
}
