using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Mesh.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Mesh.Generators;

/// <summary>Emits, for every <c>[MeshActor]</c> interface, its proxy, message types with their MemoryPack formatters,
/// dispatcher and registration; and, per assembly, a module initializer that registers contracts and implementations.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class MeshGenerator : IIncrementalGenerator
{
    /// <summary>Tracking name of the step that extracts contract models.</summary>
    internal const string ContractsStep = "Contracts";

    /// <summary>Tracking name of the step that finds implementation classes.</summary>
    internal const string ImplementationsStep = "Implementations";

    /// <summary>Tracking name of the step that lists referenced assemblies with Mesh registrations.</summary>
    internal const string ReferencesStep = "References";

    /// <summary>Tracking name of the step that gathers everything the registration file needs.</summary>
    internal const string RegistrationStep = "Registration";

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ContractModel> contracts = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "Mesh.MeshActorAttribute",
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntax, cancellationToken) => ExtractContract(syntax, cancellationToken))
            .Where(static model => model is not null)
            .Select(static (model, _) => model!)
            .WithTrackingName(ContractsStep);

        IncrementalValuesProvider<ImplementationModel> implementations = context.SyntaxProvider
            .CreateSyntaxProvider(
                static (node, _) => node is ClassDeclarationSyntax { BaseList: not null },
                static (syntax, cancellationToken) => FindImplementations(syntax, cancellationToken))
            .SelectMany(static (models, _) => models)
            .WithTrackingName(ImplementationsStep);

        IncrementalValueProvider<(string Assembly, EquatableArray<string> Referenced)> references = context.CompilationProvider
            .Select(static (compilation, cancellationToken) => FindReferencedRegistrations(compilation, cancellationToken))
            .WithTrackingName(ReferencesStep);

        context.RegisterSourceOutput(contracts, static (output, contract) =>
            output.AddSource(HintName(contract), ContractEmitter.Emit(contract)));

        IncrementalValueProvider<RegistrationModel> registration = contracts.Collect()
            .Combine(implementations.Collect())
            .Combine(references)
            .Select(static (input, _) => new RegistrationModel(
                input.Right.Assembly,
                new EquatableArray<string>(input.Left.Left.Select(c => c.Qualify(c.RegistrationName)).Distinct().OrderBy(n => n, System.StringComparer.Ordinal)),
                new EquatableArray<ImplementationModel>(input.Left.Right.Distinct().OrderBy(i => i.ImplementationType, System.StringComparer.Ordinal).ThenBy(i => i.ContractType, System.StringComparer.Ordinal)),
                input.Right.Referenced))
            .WithTrackingName(RegistrationStep);

        context.RegisterSourceOutput(registration, static (output, model) =>
        {
            if (model.HasContent)
            {
                output.AddSource("MeshRegistration.g.cs", RegistrationEmitter.Emit(model));
            }
        });
    }

    private static ContractModel? ExtractContract(GeneratorAttributeSyntaxContext syntax, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (syntax.TargetSymbol is not INamedTypeSymbol contract || MeshSymbols.TryCreate(syntax.SemanticModel.Compilation) is not { } symbols)
        {
            return null;
        }

        // Invalid contracts are skipped: the analyzers report why, at the line at fault.
        return ContractExtractor.Extract(contract, symbols, problems: null);
    }

    private static ImmutableArray<ImplementationModel> FindImplementations(GeneratorSyntaxContext syntax, CancellationToken cancellationToken)
    {
        if (syntax.SemanticModel.GetDeclaredSymbol(syntax.Node, cancellationToken) is not INamedTypeSymbol type
            || type.IsAbstract || type.IsStatic || type.IsGenericType || type.TypeKind != TypeKind.Class
            || !MeshSymbols.IsVisibleToGeneratedCode(type) || !MeshSymbols.HasPublicConstructor(type)
            || MeshSymbols.TryCreate(syntax.SemanticModel.Compilation) is not { } symbols)
        {
            return ImmutableArray<ImplementationModel>.Empty;
        }

        // A partial class is seen once per declaration: report it from its first declaration only.
        if (type.DeclaringSyntaxReferences.Length > 1 && type.DeclaringSyntaxReferences[0].GetSyntax(cancellationToken) != syntax.Node)
        {
            return ImmutableArray<ImplementationModel>.Empty;
        }

        bool isReentrant = MeshSymbols.FindAttribute(type, symbols.ReentrantAttribute) is not null;
        ImmutableArray<ImplementationModel>.Builder? found = null;
        foreach (INamedTypeSymbol contract in type.AllInterfaces)
        {
            if (symbols.GetMeshActorAttribute(contract) is null || ContractExtractor.Extract(contract, symbols, problems: null) is null)
            {
                continue;
            }

            found ??= ImmutableArray.CreateBuilder<ImplementationModel>();
            found.Add(new ImplementationModel(CSharpText.Type(contract), CSharpText.Type(type), isReentrant));
        }

        return found?.ToImmutable() ?? ImmutableArray<ImplementationModel>.Empty;
    }

    private static (string Assembly, EquatableArray<string> Referenced) FindReferencedRegistrations(Compilation compilation, CancellationToken cancellationToken)
    {
        var referenced = new List<string>();
        foreach (IAssemblySymbol assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = RegistrationEmitter.ClassName(assembly.Name);
            if (assembly.GetTypeByMetadataName(RegistrationEmitter.Namespace + "." + name) is { DeclaredAccessibility: Accessibility.Public })
            {
                referenced.Add("global::" + RegistrationEmitter.Namespace + "." + name);
            }
        }

        referenced.Sort(System.StringComparer.Ordinal);
        return (compilation.AssemblyName ?? "Assembly", new EquatableArray<string>(referenced));
    }

    private static string HintName(ContractModel contract)
        => (contract.Namespace.Length == 0 ? string.Empty : contract.Namespace + ".") + contract.MemberPrefix + ".Mesh.g.cs";
}
