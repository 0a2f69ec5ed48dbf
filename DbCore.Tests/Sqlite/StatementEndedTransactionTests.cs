using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Sqlite;

/// <summary>
/// A SQLite transaction that a statement ended behind Microsoft.Data.Sqlite's transaction object (a COMMIT or ROLLBACK the
/// work or a library sent). The provider's rollback hook sees rollbacks only, so DbCore counts commits on its cached
/// connections (SQLite's commit hook). From a review; each failed on the code before its fix.
/// </summary>
public sealed class StatementEndedTransactionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-stmt-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<Database> CreateAsync()
    {
        var settings = new DatabaseSettings { ConnectionString = $"Data Source={Path.Combine(_directory, "stmt.db")}" };
        settings.Retry.BaseDelayMilliseconds = 1;
        var db = new Database(settings, "Production");
        await db.ExecuteAsync(static (s, ct) => ExecuteAsync(s, "CREATE TABLE parents (id INTEGER PRIMARY KEY)", ct));
        return db;
    }

    private static async Task ExecuteAsync(DbSession session, string sql, CancellationToken ct)
    {
        await using var command = session.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static Task<long> CountAsync(Database db)
        => db.ExecuteAsync(static async (session, ct) =>
        {
            await using var count = session.CreateCommand("SELECT COUNT(*) FROM parents");
            return (long)(await count.ExecuteScalarAsync(ct))!;
        });

    [Fact]
    public async Task A_COMMIT_statement_then_a_caught_failing_write_is_committed_not_aborted()
    {
        // The failing autocommit write after the COMMIT fires the provider's rollback hook, which then refuses the commit as
        // "rolled back"; the unit's own insert was committed all the same. Was TransactionAbortedException "nothing was committed".
        await using Database db = await CreateAsync();
        await db.ExecuteAsync(async (session, ct) =>
        {
            await ExecuteAsync(session, "INSERT INTO parents (id) VALUES (1)", ct);
            await ExecuteAsync(session, "COMMIT", ct);
            try
            {
                await ExecuteAsync(session, "INSERT INTO parents (id) VALUES (1)", ct);
            }
            catch (SqliteException)
            {
                // a duplicate, caught: insert-or-ignore by hand
            }
        });

        Assert.Equal(1, await CountAsync(db));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task A_COMMIT_statement_then_an_unrelated_provider_error_stays_that_error()
    {
        // Was rewritten into TransactionAbortedException "nothing was committed" (autocommit alone cannot tell a commit from
        // SQLite's own rollback).
        await using Database db = await CreateAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await ExecuteAsync(session, "INSERT INTO parents (id) VALUES (1)", ct);
            await ExecuteAsync(session, "COMMIT", ct);
            await using var query = session.CreateCommand("SELECT id FROM parents");
            await using var reader = await query.ExecuteReaderAsync(ct);
            _ = reader.GetInt64(0); // before Read(): "No data exists for the row/column."
        }));

        Assert.Equal(1, await CountAsync(db));
    }

    [Fact]
    public async Task A_COMMIT_statement_then_a_transient_failure_is_not_run_again()
    {
        // As on PostgreSQL (where Npgsql sees the commit): a unit whose work committed is never run again. Was run 3 times.
        await using Database db = await CreateAsync();
        int runs = 0;
        var ex = await Assert.ThrowsAsync<DatabaseBusyException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await ExecuteAsync(session, "INSERT INTO parents DEFAULT VALUES", ct);
            await ExecuteAsync(session, "COMMIT", ct);
            throw new SqliteException("database is locked", 5); // a later write hit SQLITE_BUSY
        }));

        Assert.Equal(1, runs);
        Assert.False(ex.IsTransient); // tells an outer retry (Polly) not to run it again either
        Assert.Equal(1, await CountAsync(db));
    }

    [Fact]
    public async Task A_transaction_a_statement_left_open_does_not_reach_the_providers_pool()
    {
        // "ROLLBACK; BEGIN; ..." leaves SQLite inside a transaction the provider's object does not know. The cache closes such
        // a connection; the handle went back to Microsoft.Data.Sqlite's pool still inside it (holding the write lock), and the
        // next session that opened it failed ("cannot start a transaction within a transaction") or waited for the lock.
        await using Database db = await CreateAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await ExecuteAsync(session, "INSERT INTO parents DEFAULT VALUES", ct);
            await ExecuteAsync(session, "ROLLBACK; BEGIN; INSERT INTO parents DEFAULT VALUES", ct);
        }));

        // Two sessions at once, so that the second cannot take the cached connection and opens one from the provider's pool.
        await using (DatabaseSession first = await db.OpenSessionAsync())
        await using (DatabaseSession second = await db.OpenSessionAsync())
        {
            foreach (DatabaseSession session in new[] { first, second })
            {
                await ExecuteAsync(session, "INSERT INTO parents DEFAULT VALUES", default);
                await session.CommitAsync();
            }
        }

        Assert.Equal(2, await CountAsync(db));
    }
}
