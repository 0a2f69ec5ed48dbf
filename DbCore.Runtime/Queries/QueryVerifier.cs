using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Data.Common;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>
/// What the generated <c>VerifyQueriesAsync</c> calls: describes each <see cref="QueryDescriptor"/> against the session's
/// database without running it, in a transaction that is rolled back, and throws <see cref="QueryVerificationException"/>
/// listing every mismatch. Not meant to be called by hand; its shape may change with the generator.
/// </summary>
/// <remarks>
/// PostgreSQL: <c>PREPARE</c> (the server reports unknown tables and columns), the parameter types the server inferred from
/// <c>pg_prepared_statements</c>, then a <c>SchemaOnly</c> describe of the result (names, types, table and column of origin)
/// and <c>pg_attribute.attnotnull</c> for base columns. SQLite: <c>sqlite3_prepare_v2</c> (never stepped), the parameter
/// count, and the declared type and NOT NULL constraint of each base column. DDL and utility statements (CREATE, ALTER, ...)
/// are not described; neither is SQL of several statements on PostgreSQL.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class QueryVerifier
{
    /// <summary>Verifies <paramref name="queries"/> on a session of the accessor, then disposes the session (rolled back).</summary>
    /// <param name="session">A new session of the accessor (the generated code passes <c>CreateSession()</c>).</param>
    /// <param name="queries">The accessor's query catalog.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <exception cref="QueryVerificationException">Some query does not match the database.</exception>
    public static async Task VerifyAsync(DbSession session, IReadOnlyList<QueryDescriptor> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(queries);
        var mismatches = new List<QueryMismatch>();
        await using (session.ConfigureAwait(false))
        {
            await session.OpenAsync(cancellationToken).ConfigureAwait(false);
            await DescribeAllAsync(session.Connection, session.Transaction, queries, mismatches, cancellationToken).ConfigureAwait(false);
            await session.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        if (mismatches.Count > 0)
        {
            throw new QueryVerificationException(mismatches);
        }
    }

    /// <summary>
    /// Verifies <paramref name="queries"/> against a private in-memory SQLite database built from <paramref name="schemaScript"/>
    /// (the <c>CREATE TABLE</c> statements of the application), with no server and no file: for tests and CI of an
    /// application whose queries run on SQLite.
    /// </summary>
    /// <param name="queries">The accessor's query catalog.</param>
    /// <param name="schemaScript">The schema, one or more SQL statements (e.g. <c>File.ReadAllText("schema.sql")</c>).</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <exception cref="QueryVerificationException">Some query does not match the schema; lists every mismatch.</exception>
    public static async Task VerifyAgainstSqliteSchemaAsync(IReadOnlyList<QueryDescriptor> queries, string schemaScript, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentException.ThrowIfNullOrWhiteSpace(schemaScript);
        var connection = new SqliteConnection("Data Source=:memory:");
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            SqliteCommand create = connection.CreateCommand();
            await using (create.ConfigureAwait(false))
            {
                create.CommandText = schemaScript;
                try
                {
                    await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SqliteException ex)
                {
                    throw new ArgumentException($"The schema script does not run on SQLite: {ex.Message} Fix the script; nothing was verified.", nameof(schemaScript), ex);
                }
            }

            var mismatches = new List<QueryMismatch>();
            DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await DescribeAllAsync(connection, transaction, queries, mismatches, cancellationToken).ConfigureAwait(false);
            }

            if (mismatches.Count > 0)
            {
                throw new QueryVerificationException(mismatches);
            }
        }
    }

    private static async Task DescribeAllAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<QueryDescriptor> queries, List<QueryMismatch> mismatches, CancellationToken cancellationToken)
    {
        {
            for (int i = 0; i < queries.Count; i++)
            {
                QueryDescriptor query = queries[i];
                if (!IsDescribable(query.Sql))
                {
                    continue;
                }

                DescribedQuery? described = connection switch
                {
                    NpgsqlConnection npgsql when query.SingleStatement
                        => await DescribePostgresAsync(npgsql, (NpgsqlTransaction)transaction, query, i, mismatches, cancellationToken).ConfigureAwait(false),
                    SqliteConnection sqlite => DescribeSqlite(sqlite, query, mismatches),
                    _ => null,
                };
                if (described is not null)
                {
                    Check(query, described, mismatches);
                }
            }
        }
    }

    /// <summary>A result column as the database describes it.</summary>
    private sealed class DescribedColumn
    {
        public DescribedColumn(string name, string? dataType, string? baseTable, bool notNullInTable)
        {
            Name = name;
            DataType = dataType;
            BaseTable = baseTable;
            NotNullInTable = notNullInTable;
        }

        /// <summary>The name the provider reports (an override's <c>!</c> included).</summary>
        public string Name { get; }

        /// <summary>PostgreSQL: the type name; SQLite: the declared type of a base column. <see langword="null"/> when unknown.</summary>
        public string? DataType { get; }

        /// <summary>The table the column comes from, or <see langword="null"/> for a computed column.</summary>
        public string? BaseTable { get; }

        /// <summary>Whether the table column is declared NOT NULL (or is SQLite's INTEGER PRIMARY KEY).</summary>
        public bool NotNullInTable { get; }
    }

    private sealed class DescribedQuery
    {
        public DescribedQuery(bool postgres, IReadOnlyList<string>? parameterTypes, int parameterCount, List<DescribedColumn> columns)
        {
            Postgres = postgres;
            ParameterTypes = parameterTypes;
            ParameterCount = parameterCount;
            Columns = columns;
        }

        public bool Postgres { get; }

        /// <summary>PostgreSQL: the parameter types the server inferred, in positional order.</summary>
        public IReadOnlyList<string>? ParameterTypes { get; }

        public int ParameterCount { get; }

        public List<DescribedColumn> Columns { get; }
    }

    /// <summary>Compares what the database described with what the method expects.</summary>
    private static void Check(QueryDescriptor query, DescribedQuery described, List<QueryMismatch> mismatches)
    {
        void Add(string? column, string? member, string problem, string fix) => mismatches.Add(new QueryMismatch(query.Method, query.Sql, column, member, problem, fix));

        if (described.ParameterCount != query.Parameters.Count)
        {
            Add(null, null, $"the database sees {described.ParameterCount} parameter(s) and the method binds {query.Parameters.Count}.",
                "make every placeholder of the SQL an @name that matches one method parameter.");
        }
        else if (described.ParameterTypes is { } types)
        {
            for (int i = 0; i < types.Count; i++)
            {
                QueryValueDescriptor parameter = query.Parameters[i];
                if (TypeMap.ParameterMismatch(types[i], parameter) is { } expected)
                {
                    Add("@" + parameter.Name, null, $"parameter @{parameter.Name} is {TypeMap.Display(parameter)} and the server expects {types[i]}.",
                        $"declare the method parameter as {expected}{(parameter.IsNullable ? "?" : string.Empty)}, or cast the placeholder in the SQL (@{parameter.Name}::{TypeMap.CastName(parameter)}) if the conversion is intended.");
                }
            }
        }

        if (query.Shape is QueryShape.None or QueryShape.RowsAffected)
        {
            return;
        }

        OuterJoins joins = OuterJoins.Scan(query.Sql);
        List<DescribedColumn> columns = described.Columns;
        if (query.Scalar is { } scalar)
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

            CheckValue(query, columns[0], scalar, joins, described.Postgres, Add);
            return;
        }

        var taken = new int[query.Members.Count];
        Array.Fill(taken, -1);
        for (int c = 0; c < columns.Count; c++)
        {
            DescribedColumn column = columns[c];
            int match = -1;
            for (int m = 0; m < query.Members.Count; m++)
            {
                if (taken[m] < 0 && QuerySupport.NameMatches(column.Name, query.Members[m].Name))
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

            taken[match] = c;
            CheckValue(query, column, query.Members[match], joins, described.Postgres, Add);
        }

        for (int m = 0; m < query.Members.Count; m++)
        {
            QueryValueDescriptor member = query.Members[m];
            if (taken[m] < 0 && member.IsRequired)
            {
                Add(null, member.Name, $"no column of the result maps to the required member '{member.Name}'.",
                    $"select a column named '{member.Name}' (case and underscores ignored) or alias one AS {member.Name}; or make the member optional (a settable property).");
            }
        }
    }

    private static void CheckValue(QueryDescriptor query, DescribedColumn column, QueryValueDescriptor member, OuterJoins joins, bool postgres, Action<string?, string?, string, string> add)
    {
        string display = TypeMap.Display(member);
        string? nullReason = NullReason(query, column, joins, postgres);
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

    /// <summary>Why the column may be NULL, or <see langword="null"/> when it cannot be.</summary>
    private static string? NullReason(QueryDescriptor query, DescribedColumn column, OuterJoins joins, bool postgres)
    {
        if (column.Name.EndsWith('!'))
        {
            return null; // the alias asserts NOT NULL
        }

        if (column.BaseTable is { } table)
        {
            if (!column.NotNullInTable)
            {
                return $"it is nullable in table '{table}'";
            }

            return joins.IsNullableSide(table) ? $"table '{table}' is on the nullable side of an outer join" : null;
        }

        // COUNT(...) is never NULL; an unaliased count is recognised by its name (PostgreSQL "count", SQLite "COUNT(*)").
        bool count = postgres
            ? column.Name == "count" && CountCall().IsMatch(query.Sql)
            : CountCall().IsMatch(column.Name) && column.Name.TrimStart().StartsWith("count", StringComparison.OrdinalIgnoreCase);
        return count ? null : "it is computed, not a table column";
    }

    [GeneratedRegex(@"\bcount\s*\(", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex CountCall();

    /// <summary>Statements the databases can describe: queries and DML. DDL and utility statements are not verified.</summary>
    internal static bool IsDescribable(string sql)
    {
        string text = SqlScan.WithoutLiteralsAndComments(sql).TrimStart(' ', '\t', '\r', '\n', '(');
        int end = 0;
        while (end < text.Length && char.IsLetter(text[end]))
        {
            end++;
        }

        return text.Substring(0, end).ToUpperInvariant() is "SELECT" or "WITH" or "VALUES" or "TABLE" or "INSERT" or "UPDATE" or "DELETE" or "MERGE" or "REPLACE";
    }

    /// <summary>The mismatch for SQL the database rejects: the server's message, the column when it names one, and the fix.</summary>
    private static QueryMismatch Rejected(QueryDescriptor query, string? sqlState, string message)
    {
        string? column = null;
        string fix;
        Match undefinedColumn = UndefinedColumn().Match(message);
        if (sqlState == "42P01" || message.StartsWith("no such table", StringComparison.Ordinal))
        {
            Match table = UndefinedTable().Match(message);
            string name = table.Success ? table.Groups["name"].Value : "the table";
            fix = $"create table '{name}' in this database (run its migrations first) or correct the table name in the SQL.";
        }
        else if (sqlState == "42703" || undefinedColumn.Success)
        {
            if (undefinedColumn.Success)
            {
                column = undefinedColumn.Groups["name"].Value;
                int dot = column.LastIndexOf('.');
                column = dot >= 0 ? column.Substring(dot + 1) : column;
            }

            fix = $"correct the column name{(column is null ? string.Empty : $" '{column}'")} in the SQL, or add the column to the table.";
        }
        else if (sqlState is "42883" or "42804" or "42846")
        {
            fix = "make the types agree: change the C# type of the parameter, or cast in the SQL.";
        }
        else if (sqlState == "42601" || message.Contains("syntax error", StringComparison.Ordinal))
        {
            fix = "correct the SQL syntax.";
        }
        else
        {
            fix = "correct the SQL so that the database accepts it.";
        }

        return new QueryMismatch(query.Method, query.Sql, column, null, $"the database rejects the SQL: {message}", fix);
    }

    [GeneratedRegex("(?:relation \"(?<name>[^\"]+)\" does not exist|no such table: (?<name>\\S+))", RegexOptions.CultureInvariant)]
    private static partial Regex UndefinedTable();

    [GeneratedRegex("(?:column \"(?<name>[^\"]+)\" (?:of relation \"[^\"]+\" )?does not exist|no such column: (?<name>\\S+)|has no column named (?<name>\\S+))", RegexOptions.CultureInvariant)]
    private static partial Regex UndefinedColumn();
}
