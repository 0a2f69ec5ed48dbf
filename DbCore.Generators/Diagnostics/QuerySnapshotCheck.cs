using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using DbCore.Generators.Model;
using DbCore.Generators.Parsing;
using DbCore.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Generators.Diagnostics;

/// <summary>
/// DBC0112-DBC0115: each <c>[Query]</c> method against <c>dbcore.queries.json</c> (an additional file), with no database. The
/// rules are the verifier's own (<see cref="ShapeCheck"/>, linked from the runtime), applied to the recorded description.
/// </summary>
internal static class QuerySnapshotCheck
{
    /// <summary>The MSBuild property (made visible by the package's props) that turns a missing or stale entry into an error.</summary>
    public const string RequireProperty = "build_property.DbCoreRequireQuerySnapshot";

    /// <summary>The parsed file per text: a keystroke in C# code does not parse the snapshot again.</summary>
    private static readonly ConditionalWeakTable<SourceText, ParsedSnapshot> s_parsed = new();

    /// <summary>The snapshot this compilation checks against, or <see langword="null"/> when there is none and none is required.</summary>
    public static LoadedSnapshot? Load(AnalyzerOptions options, CancellationToken cancellationToken)
    {
        bool required = options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(RequireProperty, out string? value)
            && string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        AdditionalText? file = options.AdditionalFiles.FirstOrDefault(
            f => string.Equals(Path.GetFileName(f.Path), QuerySnapshotFormat.FileName, StringComparison.OrdinalIgnoreCase));
        if (file is null)
        {
            return required ? new LoadedSnapshot(required, null, null) : null;
        }

        SourceText? text = file.GetText(cancellationToken);
        if (text is null)
        {
            return new LoadedSnapshot(required, new ParsedSnapshot(null, "the file could not be read"), file.Path);
        }

        return new LoadedSnapshot(required, s_parsed.GetValue(text, static t => ParsedSnapshot.Parse(t.ToString())), file.Path);
    }

    /// <summary>Reports the method's DBC0112/DBC0113 (missing or stale) or DBC0114 (contradiction) diagnostics.</summary>
    public static void Report(SymbolAnalysisContext context, IMethodSymbol method, QueryMethodSpec spec, LoadedSnapshot snapshot)
    {
        if (snapshot.Parsed?.Error is not null)
        {
            return; // DBC0115, once, at the file
        }

        Location? location = method.Locations.FirstOrDefault();
        string session = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", string.Empty);
        string key = QuerySnapshotFormat.Key(session, spec.MethodName, QuerySnapshotFormat.SqlHash(spec.PositionalSql));
        SnapshotEntry? entry = null;
        if (snapshot.Parsed is null || !snapshot.Parsed.ByKey.TryGetValue(key, out entry))
        {
            string what = snapshot.Parsed is null
                ? "cannot be checked: the project has no dbcore.queries.json"
                : snapshot.Parsed.Methods.Contains(session + "|" + spec.MethodName)
                    ? "has a stale entry in dbcore.queries.json (recorded for other SQL)"
                    : "has no entry in dbcore.queries.json";
            context.ReportDiagnostic(Diagnostic.Create(
                snapshot.Required ? DiagnosticDescriptors.QueryNotInRequiredSnapshot : DiagnosticDescriptors.QueryNotInSnapshot, location, spec.DisplayName, what));
            return;
        }

        if (!entry.Described)
        {
            return; // DDL, utility statements or SQL the database rejected: VerifyQueriesAsync reports those
        }

        var problems = new List<ShapeProblem>();
        bool postgres = entry.Provider == QuerySnapshotFormat.PostgreSql;
        RowSpec? row = spec.Shape is ResultShape.None or ResultShape.RowsAffected ? null : spec.Row;
        ShapeCheck.Check(
            postgres,
            postgres ? entry.Parameters.Select(p => p.Type ?? string.Empty).ToArray() : null,
            entry.Parameters.Count,
            spec.Parameters.Select(p => Checked(p.Placeholder, p.Value, required: true)).ToArray(),
            row is not null,
            row?.Scalar is { } scalar ? Checked("the result", scalar, required: true) : null,
            row is { Scalar: null } ? row.Members.Select(m => Checked(m.Name, m.Value, !m.IsOptional)).ToArray() : Array.Empty<QueryValueDescriptor>(),
            entry.Columns.Select(c => new CheckedColumn(c.Name, c.Type, c.Nullable ? "dbcore.queries.json records it as nullable" : null)).ToArray(),
            QueryParser.Matches,
            problems);
        foreach (ShapeProblem problem in problems)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.QueryContradictsSnapshot, location, spec.DisplayName, problem.Problem.TrimEnd('.'), problem.Fix.TrimEnd('.')));
        }
    }

    /// <summary>DBC0115 when the file does not parse, at its first line.</summary>
    public static void ReportUnreadable(CompilationAnalysisContext context, LoadedSnapshot snapshot)
    {
        if (snapshot.Parsed?.Error is { } error && snapshot.FilePath is { } path)
        {
            Location location = Location.Create(path, default, new LinePositionSpan(default, default));
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnreadableQuerySnapshot, location, error));
        }
    }

    private static QueryValueDescriptor Checked(string name, ValueSpec value, bool required)
        => new(name, value.TypeName, value.EnumUnderlying ?? value.Element?.EnumUnderlying, value.IsNullable, value.IsCollection, required);
}

/// <summary>The snapshot of a compilation: whether it is required, the parsed file (null when there is none) and its path.</summary>
internal sealed class LoadedSnapshot
{
    public LoadedSnapshot(bool required, ParsedSnapshot? parsed, string? filePath)
    {
        Required = required;
        Parsed = parsed;
        FilePath = filePath;
    }

    public bool Required { get; }

    public ParsedSnapshot? Parsed { get; }

    public string? FilePath { get; }
}

/// <summary>The entries of one <c>dbcore.queries.json</c> text, by key, or why it cannot be read.</summary>
internal sealed class ParsedSnapshot
{
    public ParsedSnapshot(List<SnapshotEntry>? entries, string? error)
    {
        Error = error;
        foreach (SnapshotEntry entry in entries ?? new List<SnapshotEntry>())
        {
            ByKey[entry.Key] = entry;
            Methods.Add(entry.Session + "|" + entry.Method);
        }
    }

    public Dictionary<string, SnapshotEntry> ByKey { get; } = new(StringComparer.Ordinal);

    /// <summary>Session and method of every entry: a method with entries for other SQL only is stale, not missing.</summary>
    public HashSet<string> Methods { get; } = new(StringComparer.Ordinal);

    public string? Error { get; }

    public static ParsedSnapshot Parse(string text)
    {
        try
        {
            return new ParsedSnapshot(QuerySnapshotFormat.Read(text), null);
        }
        catch (FormatException ex)
        {
            return new ParsedSnapshot(null, ex.Message);
        }
    }
}
