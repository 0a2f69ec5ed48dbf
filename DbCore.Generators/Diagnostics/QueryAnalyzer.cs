using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using DbCore.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DbCore.Generators.Diagnostics;

/// <summary>
/// Reports DBC0101-DBC0111 for <c>[Query]</c> methods. It reads each method with the generator's own <see cref="QueryParser"/>,
/// so "the analyzer reports an error" and "the generator implements nothing" always agree. A valid method is then checked
/// against <c>dbcore.queries.json</c> when the project has one (DBC0112-DBC0115, <see cref="QuerySnapshotCheck"/>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class QueryAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The property of a DBC0101 diagnostic that holds the placeholder's name, without <c>@</c>.</summary>
    internal const string PlaceholderNameProperty = "PlaceholderName";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.PlaceholderWithoutParameter,
        DiagnosticDescriptors.UnusedQueryParameter,
        DiagnosticDescriptors.SqlNotConstant,
        DiagnosticDescriptors.UnsupportedQueryType,
        DiagnosticDescriptors.RequiredMemberNotSelected,
        DiagnosticDescriptors.ColumnWithoutMember,
        DiagnosticDescriptors.SelectStar,
        DiagnosticDescriptors.QueryMethodNotPartial,
        DiagnosticDescriptors.QueryOutsideSession,
        DiagnosticDescriptors.QueryMethodNotInstance,
        DiagnosticDescriptors.UnsupportedQueryParameter,
        DiagnosticDescriptors.PositionalPlaceholder,
        DiagnosticDescriptors.RowsAffectedOfQuery,
        DiagnosticDescriptors.QueryNotInSnapshot,
        DiagnosticDescriptors.QueryNotInRequiredSnapshot,
        DiagnosticDescriptors.QueryContradictsSnapshot,
        DiagnosticDescriptors.UnreadableQuerySnapshot);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        // The generated implementation carries [GeneratedCode], and a partial method's attributes are those of both parts:
        // with GeneratedCodeAnalysisFlags.None every method DbCore implements would count as generated code and its warnings
        // (DBC0102, DBC0106, DBC0107) would never be reported. Implementation parts are skipped in Analyze instead.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? queryAttribute = start.Compilation.GetTypeByMetadataName(KnownNames.QueryAttribute);
            INamedTypeSymbol? settingsAttribute = start.Compilation.GetTypeByMetadataName(KnownNames.DatabaseSettingsAttribute);
            if (queryAttribute is null || settingsAttribute is null)
            {
                return;
            }

            LoadedSnapshot? snapshot = QuerySnapshotCheck.Load(start.Options, start.CancellationToken);
            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, queryAttribute, settingsAttribute, snapshot), SymbolKind.Method);
            if (snapshot?.Parsed?.Error is not null)
            {
                start.RegisterCompilationEndAction(end => QuerySnapshotCheck.ReportUnreadable(end, snapshot));
            }
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol queryAttribute, INamedTypeSymbol settingsAttribute, LoadedSnapshot? snapshot)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (method.PartialDefinitionPart is not null)
        {
            return; // the implementation part (ours); the definition part carries the attribute.
        }

        AttributeData? attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, queryAttribute));
        if (attribute is null)
        {
            return;
        }

        QueryParseResult result = QueryParser.Parse(method, attribute, context.CancellationToken);
        foreach (SettingsProblem problem in result.Problems)
        {
            // DBC0101 tells its code fix the placeholder's name (the span may be the constant the SQL comes from).
            ImmutableDictionary<string, string?>? properties = problem.Descriptor.Id == DiagnosticIds.PlaceholderWithoutParameter
                ? ImmutableDictionary<string, string?>.Empty.Add(PlaceholderNameProperty, problem.Arguments[1] as string)
                : null;
            context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, problem.Location, properties, problem.Arguments));
        }

        bool shapeReported = result.Problems.Any(p => p.Descriptor.Id is DiagnosticIds.QueryOutsideSession or DiagnosticIds.QueryMethodNotPartial);
        if (!shapeReported && !IsGeneratedSession(method.ContainingType, settingsAttribute))
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.QueryOutsideSession,
                method.Locations.FirstOrDefault(),
                method.ContainingType.Name + "." + method.Name,
                method.ContainingType.ToDisplayString()));
            return;
        }

        if (snapshot is not null && result.Spec is { } spec && !shapeReported && !result.Problems.Any(p => p.Descriptor.DefaultSeverity == DiagnosticSeverity.Error))
        {
            QuerySnapshotCheck.Report(context, method, spec, snapshot);
        }
    }

    /// <summary>
    /// Whether a settings class in the type's namespace generates a session of this name. The settings class need not be
    /// valid: its own diagnostics say what is wrong, and a DBC0109 on every query would only repeat it.
    /// </summary>
    private static bool IsGeneratedSession(INamedTypeSymbol type, INamedTypeSymbol settingsAttribute)
    {
        if (type.ContainingType is not null)
        {
            return false;
        }

        var pending = new Stack<INamedTypeSymbol>(type.ContainingNamespace.GetTypeMembers());
        while (pending.Count > 0)
        {
            INamedTypeSymbol candidate = pending.Pop();
            foreach (INamedTypeSymbol nested in candidate.GetTypeMembers())
            {
                pending.Push(nested);
            }

            AttributeData? settings = candidate.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, settingsAttribute));
            if (settings is not null && SettingsParser.BaseNameOf(candidate, settings) + "Session" == type.Name)
            {
                return true;
            }
        }

        return false;
    }
}
