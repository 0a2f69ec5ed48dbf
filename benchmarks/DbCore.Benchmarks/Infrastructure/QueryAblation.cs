using DbCore.Infrastructure;
using Microsoft.Data.Sqlite;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// Where the typed query method's own cost goes (SQLite, where a unit is CPU-bound and small differences show): the hand-written
/// ADO.NET of <see cref="DbCoreSqliteSessionAdoUnit"/> in the same read-only session, moved step by step towards what
/// the generator emits (DbCore.Generators/Emitting/QueryEmitter.cs). Each step adds to the one before:
/// <list type="number">
/// <item><c>ablation-method</c>: the reading moves into its own <c>async Task&lt;T&gt;</c> method that starts with
/// <c>session.OpenAsync</c> (the generated method's shape: one more async state machine per call); fixed ordinals.</item>
/// <item><c>ablation-names</c>: + the per-call column-name resolution (<c>GetName</c> + <see cref="QuerySupport.NameMatches"/> for every column, at the first row).</item>
/// <item><c>ablation-checks</c>: + <c>IsDBNull</c> before every value, the second <c>ReadAsync</c> of a one-row method and the
/// <c>try</c>/<c>catch when</c> <see cref="QuerySupport.Translate"/>: by then it is the generated code written by hand.</item>
/// </list>
/// </summary>
internal sealed class SqliteAblationUnit(SqliteBench database, QueryShape shape, string name, bool names, bool checks) : QueryUnit(name, "sqlite", shape)
{
    public static QueryUnit[] Create(SqliteBench database, string connectionString, QueryShape shape) =>
    [
        new RawSqliteQueryUnit(connectionString, shape),
        new DbCoreSqliteSessionAdoUnit(database, shape),
        new SqliteAblationUnit(database, shape, "ablation-method", names: false, checks: false),
        new SqliteAblationUnit(database, shape, "ablation-names", names: true, checks: false),
        new SqliteAblationUnit(database, shape, "ablation-checks", names: true, checks: true),
        new DbCoreSqliteQueryUnit(database, shape),
    ];

    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        return await FindCoreAsync(session, id, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        return await ListCoreAsync(session, after, cancellationToken).ConfigureAwait(false);
    }

    private async Task<World?> FindCoreAsync(SqliteBenchSession session, long id, CancellationToken cancellationToken)
    {
        await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteCommand command = session.CreateCommand(QuerySql.Find);
            command.Parameters.AddWithValue("@id", (object?)id ?? DBNull.Value);
            SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return null;
                }

                (int c0, int c1) = names ? Resolve(reader) : (0, 1);
                World row = Read(reader, c0, c1);
                if (checks && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw QuerySupport.TooManyRows("ablation");
                }

                return row;
            }
        }
        catch (Exception exception) when (checks && QuerySupport.Translate(session, exception) is { } translated)
        {
            throw translated;
        }
    }

    private async Task<List<World>> ListCoreAsync(SqliteBenchSession session, long after, CancellationToken cancellationToken)
    {
        await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteCommand command = session.CreateCommand(QuerySql.List);
            command.Parameters.AddWithValue("@after", (object?)after ?? DBNull.Value);
            SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var rows = new List<World>();
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (int c0, int c1) = names ? Resolve(reader) : (0, 1);
                    do
                    {
                        rows.Add(Read(reader, c0, c1));
                    }
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false));
                }

                return rows;
            }
        }
        catch (Exception exception) when (checks && QuerySupport.Translate(session, exception) is { } translated)
        {
            throw translated;
        }
    }

    private World Read(SqliteDataReader reader, int c0, int c1) => checks
        ? new World(
            reader.IsDBNull(c0) ? throw QuerySupport.NullColumn("ablation", reader.GetName(c0), "Id") : reader.GetInt64(c0),
            reader.IsDBNull(c1) ? throw QuerySupport.NullColumn("ablation", reader.GetName(c1), "RandomNumber") : reader.GetInt64(c1))
        : new World(reader.GetInt64(c0), reader.GetInt64(c1));

    /// <summary>What the generator emits at the first row, every call.</summary>
    private static (int, int) Resolve(SqliteDataReader reader)
    {
        int c0 = -1;
        int c1 = -1;
        for (int i = 0; i < reader.FieldCount; i++)
        {
            string name = reader.GetName(i);
            if (c0 < 0 && QuerySupport.NameMatches(name, "Id"))
            {
                c0 = i;
            }
            else if (c1 < 0 && QuerySupport.NameMatches(name, "RandomNumber"))
            {
                c1 = i;
            }
        }

        return c0 < 0 || c1 < 0 ? throw QuerySupport.MissingColumn("ablation", c0 < 0 ? "Id" : "RandomNumber") : (c0, c1);
    }
}
