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
    public static Task VerifyAsync(DbSession session, IReadOnlyList<QueryDescriptor> queries, CancellationToken cancellationToken = default)
        => VerifyAsync(session, queries, null, cancellationToken);

    /// <summary>
    /// Verifies <paramref name="queries"/> on a session of the accessor, then disposes the session (rolled back), and writes
    /// or checks the query snapshot as <paramref name="options"/> say.
    /// </summary>
    /// <param name="session">A new session of the accessor (the generated code passes <c>CreateSession()</c>).</param>
    /// <param name="queries">The accessor's query catalog.</param>
    /// <param name="options">The snapshot to write or check; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <exception cref="QueryVerificationException">Some query does not match the database, or (in <see cref="QuerySnapshotMode.Check"/>) the snapshot is not current.</exception>
    public static async Task VerifyAsync(DbSession session, IReadOnlyList<QueryDescriptor> queries, QueryVerificationOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(queries);
        var mismatches = new List<QueryMismatch>();
        List<SnapshotEntry> entries;
        string sessionName = session.GetType().FullName ?? session.GetType().Name;
        await using (session.ConfigureAwait(false))
        {
            await session.OpenAsync(cancellationToken).ConfigureAwait(false);
            entries = await DescribeAllAsync(session.Connection, session.Transaction, queries, sessionName, mismatches, cancellationToken).ConfigureAwait(false);
            await session.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        Finish(options, sessionName, entries, mismatches);
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
    public static Task VerifyAgainstSqliteSchemaAsync(IReadOnlyList<QueryDescriptor> queries, string schemaScript, CancellationToken cancellationToken = default)
        => VerifyAgainstSqliteSchemaAsync(queries, schemaScript, typeof(DbSession), null, cancellationToken);

    /// <summary>
    /// As <see cref="VerifyAgainstSqliteSchemaAsync(IReadOnlyList{QueryDescriptor}, string, CancellationToken)"/>, and writes or
    /// checks the query snapshot as <paramref name="options"/> say.
    /// </summary>
    /// <param name="queries">The accessor's query catalog.</param>
    /// <param name="schemaScript">The schema, one or more SQL statements.</param>
    /// <param name="sessionType">The accessor's session type (names the snapshot's entries).</param>
    /// <param name="options">The snapshot to write or check; <see langword="null"/> for none.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <exception cref="QueryVerificationException">Some query does not match the schema, or (in <see cref="QuerySnapshotMode.Check"/>) the snapshot is not current.</exception>
    public static async Task VerifyAgainstSqliteSchemaAsync(IReadOnlyList<QueryDescriptor> queries, string schemaScript, Type sessionType, QueryVerificationOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentException.ThrowIfNullOrWhiteSpace(schemaScript);
        ArgumentNullException.ThrowIfNull(sessionType);
        string sessionName = sessionType.FullName ?? sessionType.Name;
        var connection = new SqliteConnection("Data Source=:memory:");
        var mismatches = new List<QueryMismatch>();
        List<SnapshotEntry> entries;
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

            DbTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                entries = await DescribeAllAsync(connection, transaction, queries, sessionName, mismatches, cancellationToken).ConfigureAwait(false);
            }
        }

        Finish(options, sessionName, entries, mismatches);
    }

    /// <summary>Writes or checks the snapshot (when asked), then throws if anything did not match.</summary>
    private static void Finish(QueryVerificationOptions? options, string sessionName, List<SnapshotEntry> entries, List<QueryMismatch> mismatches)
    {
        if (options?.SnapshotPath is { Length: > 0 } path)
        {
            QuerySnapshotFile.Apply(path, options.SnapshotMode, sessionName, entries, mismatches);
        }

        if (mismatches.Count > 0)
        {
            throw new QueryVerificationException(mismatches);
        }
    }

    /// <summary>Describes and checks every query; returns the snapshot entry of each (undescribed ones included).</summary>
    private static async Task<List<SnapshotEntry>> DescribeAllAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<QueryDescriptor> queries, string session, List<QueryMismatch> mismatches, CancellationToken cancellationToken)
    {
        var entries = new List<SnapshotEntry>(queries.Count);
        string provider = connection is NpgsqlConnection ? QuerySnapshotFormat.PostgreSql : QuerySnapshotFormat.Sqlite;
        for (int i = 0; i < queries.Count; i++)
        {
            QueryDescriptor query = queries[i];
            DescribedQuery? described = null;
            if (IsDescribable(query.Sql))
            {
                described = connection switch
                {
                    NpgsqlConnection npgsql when query.SingleStatement
                        => await DescribePostgresAsync(npgsql, (NpgsqlTransaction)transaction, query, i, mismatches, cancellationToken).ConfigureAwait(false),
                    SqliteConnection sqlite => DescribeSqlite(sqlite, query, mismatches),
                    _ => null,
                };
            }

            entries.Add(described is not null
                ? Check(query, described, session, mismatches)
                : Entry(query, session, provider, described: false, new List<SnapshotParameter>(), new List<SnapshotColumn>()));
        }

        return entries;
    }

    /// <summary>A result column as the database describes it.</summary>
    private sealed class DescribedColumn
    {
        public DescribedColumn(string name, string? dataType, string? clrType, string? baseTable, bool notNullInTable)
        {
            Name = name;
            DataType = dataType;
            ClrType = clrType;
            BaseTable = baseTable;
            NotNullInTable = notNullInTable;
        }

        /// <summary>The name the provider reports (an override's <c>!</c> included).</summary>
        public string Name { get; }

        /// <summary>PostgreSQL: the type name; SQLite: the declared type of a base column. <see langword="null"/> when unknown.</summary>
        public string? DataType { get; }

        /// <summary>The CLR type the provider reads the column as (PostgreSQL: Npgsql's; SQLite: by the declared type's affinity).</summary>
        public string? ClrType { get; }

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

    /// <summary>
    /// Compares what the database described with what the method expects (the rules are <see cref="ShapeCheck"/>'s, shared
    /// with the analyzer's snapshot check) and returns the query's snapshot entry.
    /// </summary>
    private static SnapshotEntry Check(QueryDescriptor query, DescribedQuery described, string session, List<QueryMismatch> mismatches)
    {
        OuterJoins joins = OuterJoins.Scan(query.Sql);
        var columns = new List<CheckedColumn>(described.Columns.Count);
        var snapshotColumns = new List<SnapshotColumn>(described.Columns.Count);
        foreach (DescribedColumn column in described.Columns)
        {
            string? nullReason = NullReason(query, column, joins, described.Postgres);
            columns.Add(new CheckedColumn(column.Name, column.DataType, nullReason));
            snapshotColumns.Add(new SnapshotColumn(column.Name, column.DataType, column.ClrType, nullReason is not null));
        }

        var problems = new List<ShapeProblem>();
        ShapeCheck.Check(
            described.Postgres,
            described.ParameterTypes,
            described.ParameterCount,
            query.Parameters,
            query.Shape is not (QueryShape.None or QueryShape.RowsAffected),
            query.Scalar,
            query.Members,
            columns,
            QuerySupport.NameMatches,
            problems);
        foreach (ShapeProblem problem in problems)
        {
            mismatches.Add(new QueryMismatch(query.Method, query.Sql, problem.Column, problem.Member, problem.Problem, problem.Fix));
        }

        var parameters = new List<SnapshotParameter>(described.ParameterCount);
        for (int i = 0; i < described.ParameterCount; i++)
        {
            string name = i < query.Parameters.Count ? query.Parameters[i].Name : "$" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameters.Add(new SnapshotParameter(name, described.ParameterTypes?[i]));
        }

        return Entry(query, session, described.Postgres ? QuerySnapshotFormat.PostgreSql : QuerySnapshotFormat.Sqlite, described: true, parameters, snapshotColumns);
    }

    private static SnapshotEntry Entry(QueryDescriptor query, string session, string provider, bool described, List<SnapshotParameter> parameters, List<SnapshotColumn> columns)
    {
        int dot = query.Method.LastIndexOf('.');
        return new SnapshotEntry(session, query.Method.Substring(dot + 1), QuerySnapshotFormat.SqlHash(query.PositionalSql), query.Sql, provider, described, parameters, columns);
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
