using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using DbCore.Generators.Model;
using DbCore.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DbCore.Generators.Diagnostics;

/// <summary>
/// Reports DBC0001-DBC0011 for <c>[DatabaseSettings]</c> classes. It reads each class with the generator's own
/// <see cref="SettingsParser"/>, so "the analyzer reports an error" and "the generator emits nothing" always agree.
/// One symbol action per settings class; a compilation-end action only for DBC0010 between two classes.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DatabaseSettingsAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NotPartial,
        DiagnosticDescriptors.MissingConnectionString,
        DiagnosticDescriptors.MultipleConnectionStrings,
        DiagnosticDescriptors.InvalidConnectionStringProperty,
        DiagnosticDescriptors.InvalidPoolProfile,
        DiagnosticDescriptors.DuplicatePoolProfile,
        DiagnosticDescriptors.InvalidConnectionStringLiteral,
        DiagnosticDescriptors.ProviderMismatch,
        DiagnosticDescriptors.PasswordInSource,
        DiagnosticDescriptors.NameCollision,
        DiagnosticDescriptors.NameCollisionAcrossClasses,
        DiagnosticDescriptors.UnsupportedShape);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? settingsAttribute = start.Compilation.GetTypeByMetadataName(KnownNames.DatabaseSettingsAttribute);
            if (settingsAttribute is null)
            {
                return; // DbCore is not referenced: nothing to do, and no compilation-end work either.
            }

            var valid = new ConcurrentBag<GeneratedNames>();
            start.RegisterSymbolAction(symbolContext => AnalyzeType(symbolContext, settingsAttribute, valid), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end => ReportCollisionsAcrossClasses(end, valid));
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, INamedTypeSymbol settingsAttribute, ConcurrentBag<GeneratedNames> valid)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        AttributeData? attribute = null;
        foreach (AttributeData candidate in type.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(candidate.AttributeClass, settingsAttribute))
            {
                attribute = candidate;
                break;
            }
        }

        if (attribute is null)
        {
            return;
        }

        SettingsParseResult result = SettingsParser.Parse(type, attribute, context.CancellationToken);
        foreach (SettingsProblem problem in result.Problems)
        {
            context.ReportDiagnostic(problem.ToDiagnostic());
        }

        if (result.Spec is { } spec)
        {
            valid.Add(new GeneratedNames(spec, SettingsParser.AttributeLocation(attribute) ?? type.Locations.FirstOrDefault()));
        }
    }

    /// <summary>DBC0010 between classes: two valid settings classes whose generated types share a name in one namespace.</summary>
    private static void ReportCollisionsAcrossClasses(CompilationAnalysisContext context, ConcurrentBag<GeneratedNames> valid)
    {
        if (valid.Count < 2)
        {
            return;
        }

        var owners = new Dictionary<string, List<GeneratedNames>>(StringComparer.Ordinal);
        foreach (GeneratedNames names in valid)
        {
            foreach (string typeName in SettingsParser.GeneratedTypeNames(names.Spec.BaseName))
            {
                string key = names.Spec.Namespace + "." + typeName;
                if (!owners.TryGetValue(key, out List<GeneratedNames>? list))
                {
                    owners[key] = list = new List<GeneratedNames>();
                }

                list.Add(names);
            }
        }

        // One diagnostic per class, for its first colliding name, in a stable order (the bag's order is not).
        foreach (GeneratedNames names in valid.OrderBy(n => n.Spec.Namespace, StringComparer.Ordinal).ThenBy(n => n.Spec.SettingsTypeName, StringComparer.Ordinal))
        {
            foreach (string typeName in SettingsParser.GeneratedTypeNames(names.Spec.BaseName))
            {
                List<GeneratedNames> sharing = owners[names.Spec.Namespace + "." + typeName];
                if (sharing.Count < 2)
                {
                    continue;
                }

                string others = string.Join("', '", sharing.Where(o => !ReferenceEquals(o, names)).Select(o => o.Spec.ClassName).OrderBy(n => n, StringComparer.Ordinal));
                string ns = names.Spec.Namespace.Length == 0 ? "the global namespace" : $"namespace '{names.Spec.Namespace}'";
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.NameCollisionAcrossClasses,
                    names.Location,
                    names.Spec.ClassName,
                    typeName,
                    $"is also generated in {ns} for '{others}'"));
                break;
            }
        }
    }

    private sealed class GeneratedNames
    {
        public GeneratedNames(SettingsSpec spec, Location? location)
        {
            Spec = spec;
            Location = location;
        }

        public SettingsSpec Spec { get; }

        public Location? Location { get; }
    }
}
