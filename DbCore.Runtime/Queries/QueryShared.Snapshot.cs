using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace DbCore.Infrastructure;

// Shared source: compiled into DbCore.Runtime (VerifyQueriesAsync writes and checks the snapshot) and linked into
// DbCore.Generators (the analyzer reads it), so both agree on the file's format and on the key of an entry.
// Keep it netstandard2.0 C#: no newer BCL overloads.

/// <summary>A parameter as the database described it.</summary>
internal sealed class SnapshotParameter
{
    public SnapshotParameter(string name, string? type)
    {
        Name = name;
        Type = type;
    }

    /// <summary>The placeholder without <c>@</c>.</summary>
    public string Name { get; }

    /// <summary>PostgreSQL: the type the server inferred; SQLite: <see langword="null"/> (parameters have no type).</summary>
    public string? Type { get; }
}

/// <summary>A result column as the database described it.</summary>
internal sealed class SnapshotColumn
{
    public SnapshotColumn(string name, string? type, string? clrType, bool nullable)
    {
        Name = name;
        Type = type;
        ClrType = clrType;
        Nullable = nullable;
    }

    /// <summary>The name the provider reports (an override's <c>!</c> included).</summary>
    public string Name { get; }

    /// <summary>PostgreSQL: the type name; SQLite: the declared type; <see langword="null"/> when unknown.</summary>
    public string? Type { get; }

    /// <summary>The CLR type the provider reads the column as (for the reader of the file; not checked).</summary>
    public string? ClrType { get; }

    /// <summary>Whether the column may be NULL, after the outer-join, computed-column and <c>!</c> override rules.</summary>
    public bool Nullable { get; }
}

/// <summary>One <c>[Query]</c> method's SQL as the database described it.</summary>
internal sealed class SnapshotEntry
{
    public SnapshotEntry(string session, string method, string sqlHash, string sql, string provider, bool described, IReadOnlyList<SnapshotParameter> parameters, IReadOnlyList<SnapshotColumn> columns)
    {
        Session = session;
        Method = method;
        SqlHash = sqlHash;
        Sql = sql;
        Provider = provider;
        Described = described;
        Parameters = parameters;
        Columns = columns;
    }

    /// <summary>The session type's full name, e.g. <c>App.DatabaseSession</c>.</summary>
    public string Session { get; }

    /// <summary>The method name.</summary>
    public string Method { get; }

    /// <summary><see cref="QuerySnapshotFormat.SqlHash"/> of the method's SQL: another SQL makes the entry stale.</summary>
    public string SqlHash { get; }

    /// <summary>The SQL (for the reader of the file and for review; the hash is what is compared).</summary>
    public string Sql { get; }

    /// <summary><see cref="QuerySnapshotFormat.PostgreSql"/> or <see cref="QuerySnapshotFormat.Sqlite"/>: whose type rules apply.</summary>
    public string Provider { get; }

    /// <summary>
    /// Whether the database described the statement. DDL and utility statements, SQL of several statements on PostgreSQL and
    /// SQL the database rejected are recorded undescribed: the entry is current, and nothing is checked against it.
    /// </summary>
    public bool Described { get; }

    /// <summary>The parameters the database sees, positional.</summary>
    public IReadOnlyList<SnapshotParameter> Parameters { get; }

    /// <summary>The result columns, in order.</summary>
    public IReadOnlyList<SnapshotColumn> Columns { get; }

    /// <summary>Session, method and SQL hash: what identifies an entry.</summary>
    public string Key => QuerySnapshotFormat.Key(Session, Method, SqlHash);
}

/// <summary>
/// The format of <c>dbcore.queries.json</c>: one object with a version and the entries, ordered by session, method and SQL
/// hash; indented, one line per parameter and column, LF newlines, no timestamp, so the same description writes the same
/// bytes and a change reads well in a diff.
/// </summary>
internal static class QuerySnapshotFormat
{
    /// <summary>The file name the package adds to the compilation and the analyzer looks for.</summary>
    public const string FileName = "dbcore.queries.json";

    /// <summary>The version this code writes and reads.</summary>
    public const int Version = 1;

    public const string PostgreSql = "postgresql";
    public const string Sqlite = "sqlite";

    /// <summary>The key of an entry: session, method and SQL hash.</summary>
    public static string Key(string session, string method, string sqlHash) => session + "|" + method + "|" + sqlHash;

    /// <summary>
    /// A 64-bit FNV-1a hash of the SQL (the positional form both the generator and the runtime know), carriage returns
    /// removed so a checkout with CRLF line endings hashes the same, as 16 lower-case hex digits.
    /// </summary>
    public static string SqlHash(string sql)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in sql)
        {
            if (c == '\r')
            {
                continue;
            }

            hash = (hash ^ (c & 0xFFu)) * 1099511628211UL;
            hash = (hash ^ ((uint)c >> 8)) * 1099511628211UL;
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>The file's text for <paramref name="entries"/>, sorted; identical entries are written once.</summary>
    public static string Write(IEnumerable<SnapshotEntry> entries)
    {
        var output = new StringBuilder();
        output.Append("{\n  \"version\": ").Append(Version.ToString(CultureInfo.InvariantCulture)).Append(",\n  \"queries\": [");
        string? previous = null;
        bool first = true;
        foreach (SnapshotEntry entry in entries.OrderBy(e => e.Session, StringComparer.Ordinal).ThenBy(e => e.Method, StringComparer.Ordinal).ThenBy(e => e.SqlHash, StringComparer.Ordinal))
        {
            string text = WriteEntry(entry);
            if (text == previous)
            {
                continue;
            }

            output.Append(first ? "\n" : ",\n").Append(text);
            previous = text;
            first = false;
        }

        output.Append(first ? "]\n}\n" : "\n  ]\n}\n");
        return output.ToString();
    }

    /// <summary>One entry as <see cref="Write"/> writes it (also how two entries are compared).</summary>
    public static string WriteEntry(SnapshotEntry entry)
    {
        var output = new StringBuilder();
        output.Append("    {\n");
        Property(output, "session", entry.Session);
        Property(output, "method", entry.Method);
        Property(output, "sqlHash", entry.SqlHash);
        Property(output, "sql", entry.Sql.Replace("\r", string.Empty));
        Property(output, "provider", entry.Provider);
        output.Append("      \"described\": ").Append(entry.Described ? "true" : "false").Append(",\n");
        output.Append("      \"parameters\": [");
        for (int i = 0; i < entry.Parameters.Count; i++)
        {
            SnapshotParameter parameter = entry.Parameters[i];
            output.Append(i == 0 ? "\n" : ",\n").Append("        { \"name\": ");
            SnapshotJson.WriteString(output, parameter.Name);
            output.Append(", \"type\": ");
            SnapshotJson.WriteString(output, parameter.Type);
            output.Append(" }");
        }

        output.Append(entry.Parameters.Count == 0 ? "],\n" : "\n      ],\n");
        output.Append("      \"columns\": [");
        for (int i = 0; i < entry.Columns.Count; i++)
        {
            SnapshotColumn column = entry.Columns[i];
            output.Append(i == 0 ? "\n" : ",\n").Append("        { \"name\": ");
            SnapshotJson.WriteString(output, column.Name);
            output.Append(", \"type\": ");
            SnapshotJson.WriteString(output, column.Type);
            output.Append(", \"clrType\": ");
            SnapshotJson.WriteString(output, column.ClrType);
            output.Append(", \"nullable\": ").Append(column.Nullable ? "true" : "false").Append(" }");
        }

        output.Append(entry.Columns.Count == 0 ? "]\n" : "\n      ]\n");
        output.Append("    }");
        return output.ToString();
    }

    private static void Property(StringBuilder output, string name, string value)
    {
        output.Append("      \"").Append(name).Append("\": ");
        SnapshotJson.WriteString(output, value);
        output.Append(",\n");
    }

    /// <summary>Reads the file's text; throws <see cref="FormatException"/> saying what is wrong (and where).</summary>
    public static List<SnapshotEntry> Read(string text)
    {
        if (SnapshotJson.Parse(text) is not Dictionary<string, object?> root)
        {
            throw new FormatException("the document is not a JSON object");
        }

        if (!root.TryGetValue("version", out object? version) || version is not double number || number != Version)
        {
            throw new FormatException($"\"version\" must be {Version.ToString(CultureInfo.InvariantCulture)}");
        }

        var entries = new List<SnapshotEntry>();
        foreach (object? item in List(root, "queries", "the document"))
        {
            if (item is not Dictionary<string, object?> entry)
            {
                throw new FormatException("every element of \"queries\" must be an object");
            }

            string where = "a query entry";
            string session = String(entry, "session", where);
            string method = String(entry, "method", where);
            where = $"the entry of {session}.{method}";
            var parameters = new List<SnapshotParameter>();
            foreach (object? p in List(entry, "parameters", where))
            {
                Dictionary<string, object?> parameter = p as Dictionary<string, object?> ?? throw new FormatException($"{where}: every parameter must be an object");
                parameters.Add(new SnapshotParameter(String(parameter, "name", where), OptionalString(parameter, "type", where)));
            }

            var columns = new List<SnapshotColumn>();
            foreach (object? c in List(entry, "columns", where))
            {
                Dictionary<string, object?> column = c as Dictionary<string, object?> ?? throw new FormatException($"{where}: every column must be an object");
                columns.Add(new SnapshotColumn(String(column, "name", where), OptionalString(column, "type", where), OptionalString(column, "clrType", where), Bool(column, "nullable", where)));
            }

            entries.Add(new SnapshotEntry(
                session,
                method,
                String(entry, "sqlHash", where),
                String(entry, "sql", where),
                String(entry, "provider", where),
                Bool(entry, "described", where),
                parameters,
                columns));
        }

        return entries;
    }

    private static List<object?> List(Dictionary<string, object?> o, string name, string where)
        => o.TryGetValue(name, out object? value) && value is List<object?> list ? list : throw new FormatException($"{where}: \"{name}\" must be an array");

    private static string String(Dictionary<string, object?> o, string name, string where)
        => o.TryGetValue(name, out object? value) && value is string text ? text : throw new FormatException($"{where}: \"{name}\" must be a string");

    private static string? OptionalString(Dictionary<string, object?> o, string name, string where)
        => !o.TryGetValue(name, out object? value) || value is null ? null : value as string ?? throw new FormatException($"{where}: \"{name}\" must be a string or null");

    private static bool Bool(Dictionary<string, object?> o, string name, string where)
        => o.TryGetValue(name, out object? value) && value is bool flag ? flag : throw new FormatException($"{where}: \"{name}\" must be true or false");
}
