using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// One way of running the benchmark's unit of work: open, BEGIN, <c>SELECT 1</c>, COMMIT, close. Every contender is
/// called the same way (one virtual call per unit), so the harness itself costs the same on every side.
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

/// <summary>Raw Npgsql: an <see cref="NpgsqlDataSource"/> with the same pool sizes as DbCore's.</summary>
internal sealed class RawNpgsqlUnit(NpgsqlDataSource dataSource) : UnitOfWork("raw-npgsql", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand("SELECT 1", connection, transaction))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>DbCore's <c>ExecuteAsync</c>: the accessor opens, begins, runs the (cached, static) work, commits and disposes.</summary>
internal sealed class DbCoreExecuteUnit(PgBench database) : UnitOfWork("dbcore-execute", "postgresql")
{
    private static readonly Func<PgBenchSession, CancellationToken, Task<object?>> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task<object?> WorkAsync(PgBenchSession session, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = session.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>DbCore's <c>OpenSessionAsync</c>: the caller drives the session as it would with raw Npgsql.</summary>
internal sealed class DbCoreSessionUnit(PgBench database) : UnitOfWork("dbcore-session", "postgresql")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using PgBenchSession session = await database.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await using (NpgsqlCommand command = session.CreateCommand("SELECT 1"))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
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
        await context.Database.ExecuteSqlRawAsync("SELECT 1", cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>An empty model: the unit of work only needs the connection and transaction EF Core manages.</summary>
internal sealed class BenchContext(DbContextOptions<BenchContext> options) : DbContext(options);

/// <summary>Raw Microsoft.Data.Sqlite with pooling on (its default), on the same file and connection string as DbCore.</summary>
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
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>DbCore's <c>ExecuteAsync</c> on SQLite.</summary>
internal sealed class DbCoreSqliteExecuteUnit(SqliteBench database) : UnitOfWork("dbcore-execute", "sqlite")
{
    private static readonly Func<SqliteBenchSession, CancellationToken, Task<object?>> s_work = WorkAsync;

    public override Task RunAsync(CancellationToken cancellationToken) => database.ExecuteAsync(s_work, cancellationToken);

    private static async Task<object?> WorkAsync(SqliteBenchSession session, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = session.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>DbCore's <c>OpenSessionAsync</c> on SQLite.</summary>
internal sealed class DbCoreSqliteSessionUnit(SqliteBench database) : UnitOfWork("dbcore-session", "sqlite")
{
    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await using (SqliteCommand command = session.CreateCommand("SELECT 1"))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }

        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
