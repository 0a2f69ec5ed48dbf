using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Data;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using Npgsql;
using Npgsql.Schema;
using SQLitePCL;

namespace DbCore.Infrastructure;

public static partial class QueryVerifier
{
    private const string Savepoint = "dbcore_verify";

    /// <summary>
    /// PostgreSQL: PREPARE (errors are the server's), the inferred parameter types, a SchemaOnly describe of the result (never
    /// executed), and attnotnull of each base column. A savepoint keeps the session's transaction usable after an error.
    /// </summary>
    private static async Task<DescribedQuery?> DescribePostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, QueryDescriptor query, int index, List<QueryMismatch> mismatches, CancellationToken cancellationToken)
    {
        string name = "dbcore_verify_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await transaction.SaveAsync(Savepoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var prepare = new NpgsqlCommand($"PREPARE {name} AS {query.PositionalSql}", connection, transaction))
            {
                await prepare.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            string[] types;
            await using (var parameters = new NpgsqlCommand("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1", connection, transaction))
            {
                parameters.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
                types = (string[]?)await parameters.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? Array.Empty<string>();
            }

            await using (var deallocate = new NpgsqlCommand($"DEALLOCATE {name}", connection, transaction))
            {
                await deallocate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            List<(string Name, string Type, string? ClrType, uint Table, short Attribute)> fields = await DescribeColumnsAsync(connection, transaction, query.PositionalSql, types, cancellationToken).ConfigureAwait(false);
            var columns = new List<DescribedColumn>(fields.Count);
            foreach ((string columnName, string type, string? clrType, uint table, short attribute) in fields)
            {
                string? baseTable = null;
                bool notNull = false;
                if (table != 0 && attribute > 0)
                {
                    await using var attributes = new NpgsqlCommand(
                        "SELECT c.relname, a.attnotnull FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid WHERE a.attrelid = $1::bigint::oid AND a.attnum = $2",
                        connection,
                        transaction);
                    attributes.Parameters.Add(new NpgsqlParameter<long> { TypedValue = table });
                    attributes.Parameters.Add(new NpgsqlParameter<short> { TypedValue = attribute });
                    await using NpgsqlDataReader reader = await attributes.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        baseTable = reader.GetString(0);
                        notNull = reader.GetBoolean(1);
                    }
                }

                columns.Add(new DescribedColumn(columnName, type, clrType, baseTable, notNull));
            }

            await transaction.ReleaseAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            return new DescribedQuery(postgres: true, types, types.Length, columns);
        }
        catch (PostgresException ex)
        {
            await transaction.RollbackAsync(Savepoint, cancellationToken).ConfigureAwait(false);
            mismatches.Add(Rejected(query, ex.SqlState, ex.MessageText));
            return null;
        }
    }

    /// <summary>Names, type names and origins of the result columns: Parse and Describe only (SchemaOnly), typed NULL parameters.</summary>
    private static async Task<List<(string Name, string Type, string? ClrType, uint Table, short Attribute)>> DescribeColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string[] types, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            await using var describe = new NpgsqlCommand(sql, connection, transaction);
            foreach (string type in types)
            {
                // Typed as the server inferred them; on a retry (a type Npgsql does not know) untyped, for the server to infer.
                describe.Parameters.Add(attempt == 0 ? new NpgsqlParameter { DataTypeName = type, Value = DBNull.Value } : new NpgsqlParameter { Value = DBNull.Value });
            }

            try
            {
                await using NpgsqlDataReader reader = await describe.ExecuteReaderAsync(CommandBehavior.SchemaOnly, cancellationToken).ConfigureAwait(false);
                ReadOnlyCollection<System.Data.Common.DbColumn> schema = await reader.GetColumnSchemaAsync(cancellationToken).ConfigureAwait(false);
                var fields = new List<(string, string, string?, uint, short)>(schema.Count);
                foreach (NpgsqlDbColumn column in System.Linq.Enumerable.Cast<NpgsqlDbColumn>(schema))
                {
                    fields.Add((column.ColumnName, column.DataTypeName, column.DataType?.FullName, column.TableOID, column.ColumnAttributeNumber ?? 0));
                }

                return fields;
            }
            catch (Exception ex) when (attempt == 0 && ex is not PostgresException and not OperationCanceledException and not NpgsqlException)
            {
                // e.g. a user-defined type name the parameter cannot be written as: describe with untyped parameters.
            }
        }
    }

    /// <summary>SQLite: sqlite3_prepare_v2 of each statement (never stepped); parameters, declared types and NOT NULL of base columns.</summary>
    private static DescribedQuery? DescribeSqlite(SqliteConnection connection, QueryDescriptor query, List<QueryMismatch> mismatches)
    {
        sqlite3 db = connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open.");
        string remaining = query.Sql;
        var parameters = new HashSet<string>(StringComparer.Ordinal);
        List<DescribedColumn>? columns = null;
        while (!string.IsNullOrWhiteSpace(remaining))
        {
            string statementSql = remaining;
            int rc = raw.sqlite3_prepare_v2(db, statementSql, out sqlite3_stmt statement, out string tail);
            using (statement)
            {
                if (rc != raw.SQLITE_OK)
                {
                    mismatches.Add(Rejected(query, null, raw.sqlite3_errmsg(db).utf8_to_string()));
                    return null;
                }

                remaining = tail ?? string.Empty;
                if (statement is null || statement.IsInvalid)
                {
                    continue; // only a comment or whitespace was left
                }

                int count = raw.sqlite3_bind_parameter_count(statement);
                for (int i = 1; i <= count; i++)
                {
                    parameters.Add(raw.sqlite3_bind_parameter_name(statement, i).utf8_to_string() ?? "?" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                int columnCount = raw.sqlite3_column_count(statement);
                if (columnCount > 0 && columns is null)
                {
                    columns = new List<DescribedColumn>(columnCount);
                    string? target = DmlTarget(statementSql);
                    for (int i = 0; i < columnCount; i++)
                    {
                        columns.Add(SqliteColumn(db, statement, i, target));
                    }
                }
            }
        }

        return new DescribedQuery(postgres: false, null, parameters.Count, columns ?? new List<DescribedColumn>());
    }

    private static DescribedColumn SqliteColumn(sqlite3 db, sqlite3_stmt statement, int i, string? dmlTarget)
    {
        string name = raw.sqlite3_column_name(statement, i).utf8_to_string() ?? string.Empty;
        string? declared = raw.sqlite3_column_decltype(statement, i).utf8_to_string();
        string? table = raw.sqlite3_column_table_name(statement, i).utf8_to_string();
        string? origin = raw.sqlite3_column_origin_name(statement, i).utf8_to_string();
        string database = raw.sqlite3_column_database_name(statement, i).utf8_to_string() ?? "main";
        if (table is null && dmlTarget is not null && PlainName().IsMatch(name))
        {
            // RETURNING columns carry no origin in SQLite: a plain name is looked up in the statement's target table.
            table = dmlTarget;
            origin = name;
            database = "main";
        }

        if (table is null || origin is null)
        {
            return new DescribedColumn(name, declared, AffinityClrType(declared), null, false);
        }

        int rc = raw.sqlite3_table_column_metadata(db, database, table, origin, out string dataType, out string _, out int notNull, out int primaryKey, out int _);
        if (rc != raw.SQLITE_OK)
        {
            return new DescribedColumn(name, declared, AffinityClrType(declared), null, false);
        }

        // An INTEGER PRIMARY KEY is the rowid: never NULL, though not declared NOT NULL.
        bool rowid = primaryKey != 0 && string.Equals(dataType, "INTEGER", StringComparison.OrdinalIgnoreCase);
        return new DescribedColumn(name, declared ?? dataType, AffinityClrType(declared ?? dataType), table, notNull != 0 || rowid);
    }

    /// <summary>
    /// What Microsoft.Data.Sqlite reads a column of this declared type as by default (<c>GetValue</c>): the type's affinity
    /// (INTEGER: Int64, TEXT: String, REAL: Double); NUMERIC and BLOB affinity depend on the value stored (<see langword="null"/>).
    /// </summary>
    private static string? AffinityClrType(string? declared)
    {
        if (string.IsNullOrEmpty(declared))
        {
            return null;
        }

        return TypeMap.SqliteAffinity(declared) switch
        {
            "INTEGER" => "System.Int64",
            "TEXT" => "System.String",
            "REAL" => "System.Double",
            _ => null,
        };
    }

    /// <summary>The table an INSERT, UPDATE or DELETE writes (for its RETURNING columns), or <see langword="null"/>.</summary>
    private static string? DmlTarget(string sql)
    {
        Match match = DmlTargetPattern().Match(SqlScan.WithoutLiteralsAndComments(sql));
        return match.Success ? SqlScan.LastNamePart(match.Groups["table"].Value) : null;
    }

    [GeneratedRegex(@"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+(?<table>(?:""[^""]+""|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:""[^""]+""|[A-Za-z_][\w$]*))?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DmlTargetPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainName();
}
