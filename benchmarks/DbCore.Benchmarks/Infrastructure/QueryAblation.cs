using DbCore.Infrastructure;
using Microsoft.Data.Sqlite;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// Where the typed query method's own cost goes (SQLite, where a unit is CPU-bound and small differences show): the hand-written
/// ADO.NET of <see cref="DbCoreSqliteSessionAdoUnit"/> in the same read-only session, moved step by step towards what
/// the generator emits for a SQLite-pinned method (DbCore.Generators/Emitting/QueryEmitter.cs). Each step adds to the one
/// before:
/// <list type="number">
/// <item><c>ablation-sync</c>: the same inline code with Microsoft.Data.Sqlite's synchronous <c>ExecuteReader</c> and
/// <c>Read</c>, which its async methods run (what the emitted code calls).</item>
/// <item><c>ablation-method</c>: the reading moves into its own <c>async Task&lt;T&gt;</c> method that starts with
/// <c>session.OpenAsync</c> (the generated method's shape: one more async method and its <c>Task</c> per call).</item>
/// <item><c>ablation-checks</c>: + the column-count check of the static ordinals, the second <c>Read</c> that proves a
/// one-row method read one row, and the <c>try</c>/<c>catch when</c> <see cref="QuerySupport.Translate"/>: by then it is
/// the generated code written by hand (<c>dbcore-query</c>).</item>
/// </list>
/// </summary>
internal sealed class SqliteAblationUnit(SqliteBench database, QueryShape shape, string name, bool method, bool checks) : QueryUnit(name, "sqlite", shape)
{
    public static QueryUnit[] Create(SqliteBench database, string connectionString, QueryShape shape) =>
    [
        new RawSqliteQueryUnit(connectionString, shape),
        new DbCoreSqliteSessionAdoUnit(database, shape),
        new SqliteAblationUnit(database, shape, "ablation-sync", method: false, checks: false),
        new SqliteAblationUnit(database, shape, "ablation-method", method: true, checks: false),
        new SqliteAblationUnit(database, shape, "ablation-checks", method: true, checks: true),
        QueryContenders.DbCoreSqlite(database, shape),
    ];

    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        if (method)
        {
            return await FindCoreAsync(session, id, cancellationToken).ConfigureAwait(false);
        }

        using SqliteCommand command = session.CreateCommand(QuerySql.Find);
        command.Parameters.AddWithValue("@id", id);
        using SqliteDataReader reader = command.ExecuteReader();
        return reader.Read() ? new World(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        if (method)
        {
            return await ListCoreAsync(session, after, cancellationToken).ConfigureAwait(false);
        }

        using SqliteCommand command = session.CreateCommand(QuerySql.List);
        command.Parameters.AddWithValue("@after", after);
        using SqliteDataReader reader = command.ExecuteReader();
        var rows = new List<World>();
        while (reader.Read())
        {
            rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }

    private async Task<World?> FindCoreAsync(SqliteBenchSession session, long id, CancellationToken cancellationToken)
    {
        await session.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using SqliteCommand command = session.CreateCommand(QuerySql.Find);
            command.Parameters.AddWithValue("@id", (object?)id ?? DBNull.Value);
            cancellationToken.ThrowIfCancellationRequested();
            using SqliteDataReader reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            if (checks && reader.FieldCount != 2)
            {
                throw QuerySupport.MissingColumn("ablation", "Id");
            }

            var row = new World(reader.GetInt64(0), reader.GetInt64(1));
            if (checks && reader.Read())
            {
                throw QuerySupport.TooManyRows("ablation");
            }

            return row;
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
            cancellationToken.ThrowIfCancellationRequested();
            using SqliteDataReader reader = command.ExecuteReader();
            var rows = new List<World>();
            if (reader.Read())
            {
                if (checks && reader.FieldCount != 2)
                {
                    throw QuerySupport.MissingColumn("ablation", "Id");
                }

                do
                {
                    rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
                    cancellationToken.ThrowIfCancellationRequested();
                }
                while (reader.Read());
            }

            return rows;
        }
        catch (Exception exception) when (checks && QuerySupport.Translate(session, exception) is { } translated)
        {
            throw translated;
        }
    }
}
