using System;
using System.Collections.Generic;

namespace DbCore.Infrastructure;

// Shared source: compiled into DbCore.Runtime (VerifyQueriesAsync, against the database's description) and linked into
// DbCore.Generators (the analyzer, against the description recorded in dbcore.queries.json), so both apply one set of
// rules and say the same thing. Keep it netstandard2.0 C#: no newer BCL overloads.

/// <summary>A result column as described: its name, its database type and why it may be NULL.</summary>
internal sealed class CheckedColumn
{
    public CheckedColumn(string name, string? dataType, string? nullReason)
    {
        Name = name;
        DataType = dataType;
        NullReason = nullReason;
    }

    /// <summary>The name the provider reports (an override's <c>!</c> included).</summary>
    public string Name { get; }

    /// <summary>PostgreSQL: the type name; SQLite: the declared type. <see langword="null"/> when unknown.</summary>
    public string? DataType { get; }

    /// <summary>Why the column may be NULL (after the <c>!</c> override rules), or <see langword="null"/> when it cannot be.</summary>
    public string? NullReason { get; }
}

/// <summary>One contradiction between a method and the described shape of its SQL.</summary>
internal sealed class ShapeProblem
{
    public ShapeProblem(string? column, string? member, string problem, string fix)
    {
        Column = column;
        Member = member;
        Problem = problem;
        Fix = fix;
    }

    /// <summary>The column, or <c>@name</c> for a parameter; <see langword="null"/> when none is involved.</summary>
    public string? Column { get; }

    /// <summary>The member, or "the result" for a scalar; <see langword="null"/> when none is involved.</summary>
    public string? Member { get; }

    /// <summary>What is wrong, one sentence.</summary>
    public string Problem { get; }

    /// <summary>What to change, one sentence.</summary>
    public string Fix { get; }
}

/// <summary>What a method expects of its SQL, compared with what the database described (DESIGN §8).</summary>
internal static class ShapeCheck
{
    /// <summary>
    /// Adds a <see cref="ShapeProblem"/> for each contradiction: parameter count and (PostgreSQL) types, column count for a
    /// scalar, columns without a member, required members without a column, column types and nullability.
    /// </summary>
    /// <param name="postgres">The description came from PostgreSQL (else SQLite).</param>
    /// <param name="parameterTypes">PostgreSQL: the parameter types the server inferred, positional; SQLite: <see langword="null"/>.</param>
    /// <param name="parameterCount">How many parameters the database sees.</param>
    /// <param name="parameters">The method's bound parameters, positional.</param>
    /// <param name="readsColumns">Whether the method reads the result (not <c>Task</c> or <c>Task&lt;int&gt;</c>).</param>
    /// <param name="scalar">For a scalar result, its type; else <see langword="null"/>.</param>
    /// <param name="members">For a row type, its mapped members.</param>
    /// <param name="columns">The described result columns.</param>
    /// <param name="nameMatches">Whether a column name matches a member name (case and underscores ignored, a trailing <c>!</c> too).</param>
    /// <param name="problems">Receives the contradictions.</param>
    public static void Check(
        bool postgres,
        IReadOnlyList<string>? parameterTypes,
        int parameterCount,
        IReadOnlyList<QueryValueDescriptor> parameters,
        bool readsColumns,
        QueryValueDescriptor? scalar,
        IReadOnlyList<QueryValueDescriptor> members,
        IReadOnlyList<CheckedColumn> columns,
        Func<string, string, bool> nameMatches,
        List<ShapeProblem> problems)
    {
        void Add(string? column, string? member, string problem, string fix) => problems.Add(new ShapeProblem(column, member, problem, fix));

        if (parameterCount != parameters.Count)
        {
            Add(null, null, $"the database sees {parameterCount} parameter(s) and the method binds {parameters.Count}.",
                "make every placeholder of the SQL an @name that matches one method parameter.");
        }
        else if (parameterTypes is not null)
        {
            for (int i = 0; i < parameterTypes.Count; i++)
            {
                QueryValueDescriptor parameter = parameters[i];
                if (TypeMap.ParameterMismatch(parameterTypes[i], parameter) is { } expected)
                {
                    Add("@" + parameter.Name, null, $"parameter @{parameter.Name} is {TypeMap.Display(parameter)} and the server expects {parameterTypes[i]}.",
                        $"declare the method parameter as {expected}{(parameter.IsNullable ? "?" : string.Empty)}, or cast the placeholder in the SQL (@{parameter.Name}::{TypeMap.CastName(parameter)}) if the conversion is intended.");
                }
            }
        }

        if (!readsColumns)
        {
            return;
        }

        if (scalar is not null)
        {
            if (columns.Count == 0)
            {
                Add(null, scalar.Name, "the statement returns no column, and the method reads a scalar from the first one.", "select the value (or add RETURNING), or return Task or Task<int>.");
                return;
            }

            if (columns.Count > 1)
            {
                Add(columns[1].Name, scalar.Name, $"the statement returns {columns.Count} columns, and a scalar reads only the first ('{columns[0].Name}').", "select one column, or return a row type with a member for each column.");
            }

            CheckValue(columns[0], scalar, postgres, Add);
            return;
        }

        var taken = new bool[members.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            CheckedColumn column = columns[c];
            int match = -1;
            for (int m = 0; m < members.Count; m++)
            {
                if (!taken[m] && nameMatches(column.Name, members[m].Name))
                {
                    match = m;
                    break;
                }
            }

            if (match < 0)
            {
                Add(column.Name, null, $"column '{column.Name}' maps to no member of the row type (names match ignoring case and underscores).",
                    $"remove the column from the select list, alias it AS the name of a member, or add a member named '{column.Name.TrimEnd('!')}'.");
                continue;
            }

            taken[match] = true;
            CheckValue(column, members[match], postgres, Add);
        }

        for (int m = 0; m < members.Count; m++)
        {
            QueryValueDescriptor member = members[m];
            if (!taken[m] && member.IsRequired)
            {
                Add(null, member.Name, $"no column of the result maps to the required member '{member.Name}'.",
                    $"select a column named '{member.Name}' (case and underscores ignored) or alias one AS {member.Name}; or make the member optional (a settable property).");
            }
        }
    }

    private static void CheckValue(CheckedColumn column, QueryValueDescriptor member, bool postgres, Action<string?, string?, string, string> add)
    {
        string display = TypeMap.Display(member);
        string? nullReason = column.NullReason;
        if (column.DataType is { } dataType && (postgres ? TypeMap.PostgresReadMismatch(dataType, member) : TypeMap.SqliteReadMismatch(dataType, member)) is { } expected)
        {
            add(column.Name, member.Name, $"column '{column.Name}' is {dataType} and member '{member.Name}' is {display}, which it cannot be read as.",
                $"declare '{member.Name}' as {expected}{(nullReason is null ? string.Empty : "?")}, or cast the column in the SQL to a type that reads as {display}.");
        }

        if (nullReason is not null && !member.IsNullable)
        {
            string name = column.Name.TrimEnd('!');
            add(column.Name, member.Name, $"column '{column.Name}' can be NULL ({nullReason}) and '{member.Name}' ({display}) is not nullable.",
                $"declare '{member.Name}' as {display}?; or, if it can never be NULL, exclude NULL in the query (e.g. COALESCE) or alias the column AS \"{name}!\" to assert it is never NULL.");
        }
    }
}
