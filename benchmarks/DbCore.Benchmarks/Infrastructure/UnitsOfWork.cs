using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// One way of running the benchmark's unit of work. A write unit is open, BEGIN, one <c>UPDATE</c> (see
/// <see cref="BenchSql"/>), COMMIT, close; a read unit is open, <c>SELECT 1</c>, close (DbCore's PostgreSQL read path sends
/// no BEGIN/COMMIT for it, so raw's read unit sends none either). SQLite units are BEGIN IMMEDIATE, <c>SELECT 1</c>, COMMIT
/// on both sides (see <see cref="RawSqliteUnit"/>). Every contender is called the same way (one virtual call
/// per unit), so the harness itself costs the same on every side.
/// </summary>
internal abstract class UnitOfWork
{
    protected UnitOfWork(string name, string provider)
    {
        Name = name;
        Provider = provider;
    }

    /// <summary>Short name used in tables (e.g. <c>raw-npgsql</c>, <c>dbcore-execute</c>).</summary>
    public string Name { get; }

    /// <summary><c>postgresql</c> or <c>sqlite</c>.</summary>
    public string Provider { get; }

    public abstract Task RunAsync(CancellationToken cancellationToken);

    public override string ToString() => Name;
}

/// <summary>Raw Npgsql write unit: an <see cref="NpgsqlDataSource"/> with the same pool sizes as DbCore's; BEGIN, UPDATE, COMMIT.</summary>
internal sealed class RawNpgsqlUnit(NpgsqlDataSource dataSource) : UnitOfWork("raw-npgsql", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(BenchSql.NextUpdate(), connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// DbCore's <c>ExecuteAsync</c>: the accessor opens, begins, runs the (cached, static) work, commits and disposes. The work
/// returns nothing, as raw's unit does (the <c>Task&lt;T&gt;</c> form is <see cref="DbCoreExecuteResultUnit"/>).
/// </summary>
internal sealed class DbCoreExecuteUnit(PgBench database) : UnitOfWork("dbcore-execute", "postgresql")
{
    private static readonly Func<PgBenchSession, CancellationToken, Task> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task WorkAsync(PgBenchSession session, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = session.CreateCommand(BenchSql.NextUpdate());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary><c>ExecuteAsync&lt;T&gt;</c>: the same unit returning the affected rows (profiled in <c>--only allocations</c>).</summary>
internal sealed class DbCoreExecuteResultUnit(PgBench database) : UnitOfWork("dbcore-execute-result", "postgresql")
{
    private static readonly Func<PgBenchSession, CancellationToken, Task<int>> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task<int> WorkAsync(PgBenchSession session, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = session.CreateCommand(BenchSql.NextUpdate());
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Raw's counterpart of <see cref="DbCoreExecuteResultUnit"/> (profiled in <c>--only allocations</c>): the same raw unit in
/// an async method that returns the affected rows, as raw code that gives its caller a result is written.
/// </summary>
internal sealed class RawNpgsqlResultUnit(NpgsqlDataSource dataSource) : UnitOfWork("raw-npgsql-result", "postgresql")
{
    public override Task RunAsync(CancellationToken cancellationToken) => UpdateAsync(cancellationToken);

    private async Task<int> UpdateAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int rows;
        await using (var command = new NpgsqlCommand(BenchSql.NextUpdate(), connection, transaction))
        {
            rows = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return rows;
    }
}

/// <summary>DbCore's <c>OpenSessionAsync</c>: the caller drives the session as it would with raw Npgsql.</summary>
internal sealed class DbCoreSessionUnit(PgBench database) : UnitOfWork("dbcore-session", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using PgBenchSession session = await database.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await using (NpgsqlCommand command = session.CreateCommand(BenchSql.NextUpdate()))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>EF Core with a pooled DbContext and an explicit transaction, over its own data source with the same pool sizes.</summary>
internal sealed class EfCoreUnit(PooledDbContextFactory<BenchContext> factory) : UnitOfWork("efcore-pooled", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using BenchContext context = factory.CreateDbContext();
        await using IDbContextTransaction transaction = await context.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await context.Database.ExecuteSqlRawAsync(BenchSql.NextUpdate(), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>An empty model: the unit of work only needs the connection and transaction EF Core manages.</summary>
internal sealed class BenchContext(DbContextOptions<BenchContext> options) : DbContext(options);

/// <summary>
/// Raw Microsoft.Data.Sqlite with pooling on (its default), on the same file and connection string as DbCore:
/// <c>BEGIN IMMEDIATE</c> (what <c>BeginTransactionAsync()</c> sends), <c>SELECT 1</c>, COMMIT. DbCore's SQLite write
/// session sends exactly that, so the SQLite units stay <c>SELECT 1</c>: with an UPDATE every COMMIT waits for the WAL's
/// fsync (a few hundred units/s on this VM's disk on both sides), and the ratio would measure the disk.
/// </summary>
internal sealed class RawSqliteUnit(string connectionString) : UnitOfWork("raw-sqlite", "sqlite")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteTransaction transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = BenchSql.Read;
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// Raw's counterpart of <see cref="DbCoreSqliteExecuteResultUnit"/> (profiled in <c>--only allocations</c>): the same raw
/// unit in an async method that returns the scalar, as raw code that gives its caller a result is written.
/// </summary>
internal sealed class RawSqliteResultUnit(string connectionString) : UnitOfWork("raw-sqlite-result", "sqlite")
{
    public override Task RunAsync(CancellationToken cancellationToken) => ReadAsync(cancellationToken);

    private async Task<object?> ReadAsync(CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteTransaction transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        object? value;
        await using (SqliteCommand command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = BenchSql.Read;
            value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return value;
    }
}

/// <summary>DbCore's <c>ExecuteAsync</c> on SQLite; the work returns nothing, as raw's unit does.</summary>
internal sealed class DbCoreSqliteExecuteUnit(SqliteBench database) : UnitOfWork("dbcore-execute", "sqlite")
{
    private static readonly Func<SqliteBenchSession, CancellationToken, Task> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task WorkAsync(SqliteBenchSession session, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = session.CreateCommand(BenchSql.Read);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary><c>ExecuteAsync&lt;T&gt;</c> on SQLite, returning the scalar (profiled in <c>--only allocations</c>).</summary>
internal sealed class DbCoreSqliteExecuteResultUnit(SqliteBench database) : UnitOfWork("dbcore-execute-result", "sqlite")
{
    private static readonly Func<SqliteBenchSession, CancellationToken, Task<object?>> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task<object?> WorkAsync(SqliteBenchSession session, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = session.CreateCommand(BenchSql.Read);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// DbCore's <c>OpenSessionAsync</c> on SQLite, like-for-like with raw's <c>BeginTransaction</c>: the session's transaction is
/// begun explicitly (<c>session.Transaction</c>, BEGIN IMMEDIATE). Without it the session's read would run in autocommit
/// (the SQLite read path) and the unit would no longer be the same work as raw's.
/// </summary>
internal sealed class DbCoreSqliteSessionUnit(SqliteBench database) : UnitOfWork("dbcore-session", "sqlite")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        _ = session.Transaction;
        await using (SqliteCommand command = session.CreateCommand(BenchSql.Read))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Raw Npgsql read unit: open, <c>SELECT 1</c> (no transaction), close.</summary>
internal sealed class RawNpgsqlReadUnit(NpgsqlDataSource dataSource) : UnitOfWork("raw-npgsql-read", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(BenchSql.Read, connection);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// DbCore read unit: <c>ExecuteReadOnlyAsync</c> whose work runs one <c>SELECT 1</c> (the read path: no BEGIN, no COMMIT).
/// <c>ExecuteAsync</c> is the write unit: it begins its transaction at open, so that a SELECT calling a writing function is
/// never committed outside the retried unit, and costs a BEGIN and a COMMIT even for a read.
/// </summary>
internal sealed class DbCoreReadUnit(PgBench database) : UnitOfWork("dbcore-read", "postgresql")
{
    private static readonly Func<PgBenchSession, CancellationToken, Task<object?>> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteReadOnlyAsync(s_work, cancellationToken);

    private static async Task<object?> WorkAsync(PgBenchSession session, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = session.CreateCommand(BenchSql.Read);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
