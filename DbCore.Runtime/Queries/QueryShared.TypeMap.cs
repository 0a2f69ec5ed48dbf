using System;

namespace DbCore.Infrastructure;

// Shared source: compiled into DbCore.Runtime (the verifier) and linked into DbCore.Generators (the analyzer's snapshot
// check), so "what the database type reads as" is one table. Keep it netstandard2.0 C#: no newer BCL overloads.

/// <summary>
/// Which CLR types a database type can be read as and bound from. Reads allow widening only (int2 into short, int or long;
/// int4 into int or long; int8 into long; float4 into float or double), an unsigned type at least as wide (int4 into
/// uint or ulong: DbCore reads those with an overflow check, as PostgreSQL has no unsigned types), and int2 into byte or
/// sbyte (PostgreSQL has no one-byte integer, and both providers read those with an overflow check too); enums, and the elements
/// of collections of enums, count as their underlying type. Parameters
/// accept any numeric CLR type for a numeric database type (the server casts), otherwise the same family. Unknown database
/// types (user-defined types, domains) are not checked.
/// </summary>
internal static class TypeMap
{
    private static readonly string[] s_numbers = ["byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double", "decimal"];

    /// <summary>The CLR types a PostgreSQL type reads as, preferred first; <see langword="null"/> when the type is not known.</summary>
    private static string[]? PostgresReads(string type) => Normalize(type) switch
    {
        "smallint" or "int2" => ["short", "int", "long", "ushort", "uint", "ulong", "byte", "sbyte"],
        "integer" or "int" or "int4" => ["int", "long", "uint", "ulong"],
        "bigint" or "int8" => ["long", "ulong"],
        "numeric" or "decimal" => ["decimal"],
        "real" or "float4" => ["float", "double"],
        "double precision" or "float8" => ["double"],
        "boolean" or "bool" => ["bool"],
        "text" or "character varying" or "varchar" or "name" or "citext" or "character" or "bpchar" or "char" => ["string", "char"],
        "uuid" => ["System.Guid"],
        "timestamp with time zone" or "timestamptz" => ["System.DateTimeOffset", "System.DateTime"],
        "timestamp without time zone" or "timestamp" => ["System.DateTime"],
        "date" => ["System.DateOnly", "System.DateTime"],
        "time without time zone" or "time" => ["System.TimeOnly", "System.TimeSpan"],
        "interval" => ["System.TimeSpan"],
        "bytea" => ["byte[]"],
        "json" or "jsonb" => ["string"],
        _ => null,
    };

    private static bool IsNumeric(string type) => Normalize(type) is "smallint" or "int2" or "integer" or "int" or "int4" or "bigint" or "int8"
        or "numeric" or "decimal" or "real" or "float4" or "double precision" or "float8";

    /// <summary>The type to declare when <paramref name="member"/> cannot be read from <paramref name="type"/>; else null.</summary>
    public static string? PostgresReadMismatch(string type, QueryValueDescriptor member)
        => Mismatch(type, member, (t, clr) => PostgresReads(t) is not { } reads ? null : Array.IndexOf(reads, clr) >= 0 ? null : reads[0]);

    /// <summary>The type to declare when the parameter's type does not fit the inferred type; else null.</summary>
    public static string? ParameterMismatch(string type, QueryValueDescriptor parameter)
    {
        if (Key(parameter.ClrType) == "object")
        {
            return null;
        }

        return Mismatch(type, parameter, (t, clr) =>
        {
            if (PostgresReads(t) is not { } reads)
            {
                return null;
            }

            bool fits = IsNumeric(t) ? Array.IndexOf(s_numbers, clr) >= 0 : Array.IndexOf(reads, clr) >= 0;
            return fits ? null : reads[0];
        });
    }

    /// <summary>SQLite: the declared type's affinity decides (INTEGER, TEXT, BLOB, REAL, NUMERIC); no arrays.</summary>
    public static string? SqliteReadMismatch(string declared, QueryValueDescriptor member)
    {
        if (member.IsCollection)
        {
            return "a scalar type (SQLite has no arrays)";
        }

        string clr = Key(member.EnumUnderlying ?? member.ClrType);
        string[] allowed;
        switch (SqliteAffinity(declared))
        {
            case "INTEGER":
                allowed = ["long", "int", "short", "byte", "sbyte", "ushort", "uint", "ulong", "bool", "decimal", "double", "float"];
                break;
            case "TEXT":
                allowed = ["string", "char", "System.Guid", "System.DateTime", "System.DateTimeOffset", "System.DateOnly", "System.TimeOnly", "System.TimeSpan", "decimal"];
                break;
            case "BLOB":
                return null; // no declared type: anything may be stored
            case "REAL":
                allowed = ["double", "float", "decimal"];
                break;
            default:
                // NUMERIC affinity (BOOLEAN, DATE, DATETIME, DECIMAL, ...): numbers, booleans, dates and text all occur.
                allowed = [.. s_numbers, "bool", "string", "System.DateTime", "System.DateTimeOffset", "System.DateOnly", "System.TimeOnly", "System.TimeSpan"];
                break;
        }

        return Array.IndexOf(allowed, clr) >= 0 ? null : allowed[0];
    }

    /// <summary>
    /// SQLite's affinity of a declared type (its rules, in order): INTEGER (contains INT), TEXT (CHAR, CLOB, TEXT), BLOB
    /// (BLOB or no type), REAL (REAL, FLOA, DOUB), else NUMERIC.
    /// </summary>
    public static string SqliteAffinity(string declared)
    {
        string upper = declared.ToUpperInvariant();
        return Has(upper, "INT") ? "INTEGER"
            : Has(upper, "CHAR") || Has(upper, "CLOB") || Has(upper, "TEXT") ? "TEXT"
            : upper.Trim().Length == 0 || Has(upper, "BLOB") ? "BLOB"
            : Has(upper, "REAL") || Has(upper, "FLOA") || Has(upper, "DOUB") ? "REAL"
            : "NUMERIC";
    }

    private static bool Has(string text, string part) => text.IndexOf(part, StringComparison.Ordinal) >= 0;

    private static string? Mismatch(string type, QueryValueDescriptor value, Func<string, string, string?> scalar)
    {
        string normalized = Normalize(type);
        bool array = normalized.EndsWith("[]", StringComparison.Ordinal);
        string clr = Key(value.EnumUnderlying ?? value.ClrType);
        if (array != value.IsCollection)
        {
            if (PostgresReads(array ? normalized.Substring(0, normalized.Length - 2) : normalized) is not { } reads)
            {
                return null;
            }

            return array ? reads[0] + "[]" : reads[0];
        }

        if (!array)
        {
            return scalar(normalized, clr);
        }

        string? element = value.EnumUnderlying is { } underlying ? Key(underlying) : ElementKey(value.ClrType);
        return element is null ? null : scalar(normalized.Substring(0, normalized.Length - 2), element) is { } e ? e + "[]" : null;
    }

    /// <summary>The type name without modifiers and schema, lower case: <c>character varying(20)</c> → <c>character varying</c>.</summary>
    private static string Normalize(string type)
    {
        string text = type.Trim().ToLowerInvariant();
        if (text.StartsWith("pg_catalog.", StringComparison.Ordinal))
        {
            text = text.Substring("pg_catalog.".Length);
        }

        int open = text.IndexOf('(');
        if (open >= 0)
        {
            int close = text.IndexOf(')', open);
            text = (text.Substring(0, open) + (close >= 0 ? text.Substring(close + 1) : string.Empty)).Trim();
        }

        if (text.Length > 0 && text[0] == '_')
        {
            text = text.Substring(1) + "[]"; // _int8 = int8[]
        }

        return text.Replace(" []", "[]");
    }

    /// <summary><c>global::System.Guid</c> → <c>System.Guid</c>; keywords stay.</summary>
    private static string Key(string clrType) => clrType.StartsWith("global::", StringComparison.Ordinal) ? clrType.Substring("global::".Length) : clrType;

    private static string? ElementKey(string clrType)
    {
        string key = Key(clrType);
        if (key.EndsWith("[]", StringComparison.Ordinal))
        {
            return key.Substring(0, key.Length - 2);
        }

        const string List = "System.Collections.Generic.List<";
        return key.StartsWith(List, StringComparison.Ordinal) && key.EndsWith(">", StringComparison.Ordinal) ? Key(key.Substring(List.Length, key.Length - List.Length - 1)) : null;
    }

    /// <summary>The C# type as a reader would write it: <c>DateTimeOffset?</c>, <c>Priority (an enum read as int)</c>.</summary>
    public static string Display(QueryValueDescriptor value)
    {
        string name = Key(value.ClrType).Replace("global::", string.Empty).Replace("System.Collections.Generic.", string.Empty);
        if (name.StartsWith("System.", StringComparison.Ordinal) && name.IndexOf('.', "System.".Length) < 0)
        {
            name = name.Substring("System.".Length);
        }

        if (value.EnumUnderlying is not null)
        {
            int dot = name.LastIndexOf('.');
            name = value.IsCollection
                ? name + $" (enums, read as {value.EnumUnderlying})"
                : (dot >= 0 ? name.Substring(dot + 1) : name) + $" (an enum, read as {value.EnumUnderlying})";
        }

        return name + (value.IsNullable && value.EnumUnderlying is null ? "?" : string.Empty);
    }

    /// <summary>The PostgreSQL type a parameter of this CLR type is sent as, for the cast in a fix.</summary>
    public static string CastName(QueryValueDescriptor parameter) => Key(parameter.EnumUnderlying ?? parameter.ClrType) switch
    {
        "short" => "smallint",
        "int" => "integer",
        "long" => "bigint",
        "decimal" => "numeric",
        "float" => "real",
        "double" => "double precision",
        "bool" => "boolean",
        "System.Guid" => "uuid",
        "System.DateTime" => "timestamp",
        "System.DateTimeOffset" => "timestamptz",
        "System.DateOnly" => "date",
        "System.TimeOnly" => "time",
        "System.TimeSpan" => "interval",
        "byte[]" => "bytea",
        _ => "text",
    };
}
