using System.Data.Common;
using System.Diagnostics;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Sqlite;

/// <summary>
/// SQLite locking on a WAL file: read-only units and sessions read in autocommit on Mode=ReadOnly connections (a deferred
/// read transaction when one is asked for), so they never wait for a writer; writers wait for the write lock
/// asynchronously, without holding a thread, until the busy timeout.
/// </summary>
public sealed class SqliteLockingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-locking-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string ConnectionString => $"Data Source={Path.Combine(_directory, "locking.db")}";

    /// <summary>One attempt per unit, so a BUSY is seen as it is and not hidden by a retry.</summary>
    private async Task<Local> CreateDatabaseAsync(int busyTimeoutSeconds)
    {
        var settings = new LocalSettings { ConnectionString = ConnectionString, CommandTimeoutSeconds = busyTimeoutSeconds };
        settings.Retry.MaxAttempts = 1;
        var db = new Local(settings, "Production");
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("CREATE TABLE items (id INTEGER PRIMARY KEY); INSERT INTO items VALUES (0)");
            await command.ExecuteNonQueryAsync(ct);
        });
        return db;
    }

    /// <summary>A connection of another process, so to speak, holding the write lock with an uncommitted row.</summary>
    private async Task<SqliteConnection> HoldWriteLockAsync()
    {
        var holder = new SqliteConnection(ConnectionString);
        await holder.OpenAsync();
        await using SqliteCommand begin = holder.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE; INSERT INTO items VALUES (-1);";
        await begin.ExecuteNonQueryAsync();
        return holder;
    }

    private static async Task<long> CountAsync(LocalSession session, CancellationToken ct)
    {
        await using SqliteCommand command = session.CreateCommand("SELECT COUNT(*) FROM items");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task InsertAsync(LocalSession session, int id, CancellationToken ct)
    {
        await using SqliteCommand command = session.CreateCommand("INSERT INTO items VALUES ($id)");
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(ct);
    }

    [Fact]
    public async Task A_read_only_unit_beside_an_open_writer_reads_the_last_committed_data_at_once()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);
        await using SqliteConnection writer = await HoldWriteLockAsync();

        var clock = Stopwatch.StartNew();
        long count = await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct));

        Assert.Equal(1, count); // the committed row, not the writer's uncommitted one
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"the read took {clock.Elapsed}, half the 5 s busy timeout or more");
    }

    [Fact]
    public async Task A_write_in_a_read_only_unit_fails_typed_and_leaves_the_pools_usable()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);

        // Read-only sessions of a file database run on connections SQLite opens read-only (Mode=ReadOnly), not on the
        // write pool with PRAGMA query_only switched on and off around every session.
        await using (LocalSession reader = await db.OpenReadOnlySessionAsync())
        {
            Assert.Equal(SqliteOpenMode.ReadOnly, new SqliteConnectionStringBuilder(reader.Connection.ConnectionString).Mode);
        }

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteReadOnlyAsync((session, ct) => InsertAsync(session, 99, ct)));
        Assert.Equal("8", ex.SqlState); // SQLITE_READONLY
        Assert.False(ex.IsTransient);

        // A read-only unit reads; the write pool still writes, and the read-only pool sees the write.
        await db.ExecuteAsync((session, ct) => InsertAsync(session, 100, ct));
        Assert.Equal(2L, await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct))); // row 0 and row 100
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task A_read_only_session_beside_an_open_writer_opens_at_once_and_reads_committed_data()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);
        await using SqliteConnection writer = await HoldWriteLockAsync();

        var clock = Stopwatch.StartNew();
        await using LocalSession session = await db.OpenReadOnlySessionAsync();
        long count = await CountAsync(session, default);

        Assert.Equal(1, count);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"the read took {clock.Elapsed}, half the 5 s busy timeout or more");
    }

    [Fact]
    public async Task Writers_waiting_for_the_write_lock_hold_no_thread_and_all_commit()
    {
        int writers = 2 * Environment.ProcessorCount * 4;
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 10);
        SqliteConnection holder = await HoldWriteLockAsync();

        // Every unit is started from this one thread while the lock is held. A wait that blocked its thread (a Thread.Sleep
        // loop inside BEGIN IMMEDIATE) would keep this thread until the busy timeout and then return a faulted task.
        var units = new Task[writers];
        for (int i = 0; i < writers; i++)
        {
            int id = i + 1;
            units[i] = db.ExecuteAsync((session, ct) => InsertAsync(session, id, ct));
            Assert.False(units[i].IsCompleted, "a writer returned to its caller completed (or failed) while the lock was held");
        }

        // For about a second they wait, and the thread pool keeps serving other work meanwhile: a chain of pool hops runs.
        var held = Stopwatch.StartNew();
        int hops = 0;
        while (held.Elapsed < TimeSpan.FromSeconds(1))
        {
            await Task.Run(() => Interlocked.Increment(ref hops));
        }

        Assert.True(hops > 0);
        Assert.All(units, unit => Assert.False(unit.IsCompleted, "a writer finished while the lock was held"));

        await using (holder)
        {
            await using SqliteCommand commit = holder.CreateCommand();
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync();
        }

        await Task.WhenAll(units).WaitAsync(TimeSpan.FromSeconds(30));
        long count = await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct));
        Assert.Equal(writers + 2, count); // the first row, the holder's row and one row per writer: none lost
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task A_writer_that_never_gets_the_lock_fails_busy_after_the_busy_timeout_without_blocking_its_caller()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 1);
        await using SqliteConnection holder = await HoldWriteLockAsync();

        // A unit of work begins BEGIN IMMEDIATE at open and waits for the lock asynchronously.
        var clock = Stopwatch.StartNew();
        Task unit = db.ExecuteAsync((session, ct) => InsertAsync(session, 7, ct));
        Assert.False(unit.IsCompleted, "the unit blocked its caller for the whole busy wait");
        var ex = await Assert.ThrowsAsync<DatabaseBusyException>(() => unit);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"BUSY came after {clock.Elapsed}, before the 1 s busy timeout");
        Assert.True(ex.IsTransient);
        Assert.Equal(5, Assert.IsType<SqliteException>(ex.InnerException).SqliteErrorCode);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task A_session_that_only_reads_takes_no_write_lock_and_its_first_write_begins_the_transaction()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 1);
        SqliteConnection holder = await HoldWriteLockAsync();

        // The scoped-session idiom: the session opens at once beside a writer and reads the last committed data (the
        // holder's uncommitted row is not seen); before, it began BEGIN IMMEDIATE at open and waited for the lock.
        var clock = Stopwatch.StartNew();
        await using (LocalSession reader = db.CreateSession())
        {
            Assert.Equal(1L, await CountAsync(reader, CancellationToken.None));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(0.9), $"the read waited {clock.Elapsed} for the writer");

        // A session that writes begins its transaction at the first write, and commits once the lock is free.
        await using LocalSession writer = await db.OpenSessionAsync();
        Assert.Equal(1L, await CountAsync(writer, CancellationToken.None)); // a read first: no transaction yet
        await using (SqliteCommand rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";                               // the other writer gives up its lock
            await rollback.ExecuteNonQueryAsync();
        }

        await holder.DisposeAsync();
        await InsertAsync(writer, 8, CancellationToken.None);                 // BEGIN IMMEDIATE, then the insert
        await writer.CommitAsync();
        Assert.Equal(2L, await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct)));
    }

    /// <summary>
    /// The read path on SQLite read-only units, as on PostgreSQL: reads run in autocommit (no BEGIN / ROLLBACK around a
    /// one-statement read), so each sees what was committed before it started; <c>session.Transaction</c> begins one
    /// (deferred, read) snapshot for every statement after it.
    /// </summary>
    [Fact]
    public async Task A_read_only_unit_reads_statement_by_statement_and_its_transaction_is_one_snapshot()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);
        int next = 10;
        Task CommitAnotherRowAsync() => db.ExecuteAsync((session, ct) => InsertAsync(session, next++, ct));

        (long First, long Second) autocommit = await db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            long first = await CountAsync(session, ct);
            await CommitAnotherRowAsync();
            return (first, await CountAsync(session, ct));
        });
        (long First, long Second) snapshot = await db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            _ = session.Transaction; // one snapshot from here on
            long first = await CountAsync(session, ct);
            await CommitAnotherRowAsync();
            return (first, await CountAsync(session, ct));
        });

        Assert.Equal((1L, 2L), autocommit);
        Assert.Equal((2L, 2L), snapshot);
        Assert.Equal(3L, await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct))); // rows 0, 10, 11
    }

    [Fact]
    public async Task ExecuteAndCommitAsync_on_SQLite_runs_the_last_write_and_commits_the_session()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);

        await using (LocalSession session = await db.OpenSessionAsync())
        {
            await InsertAsync(session, 1, CancellationToken.None);
            await using SqliteCommand last = session.CreateCommand("INSERT INTO items VALUES (2)");
            Assert.Equal(1, await session.ExecuteAndCommitAsync(last));
            Assert.True(session.IsCommitted);
        }

        await using (LocalSession session = await db.OpenSessionAsync())
        {
            await using SqliteCommand duplicate = session.CreateCommand("INSERT INTO items VALUES (2)");
            await Assert.ThrowsAsync<UniqueViolationException>(async () => await session.ExecuteAndCommitAsync(duplicate));
        }

        Assert.Equal(3L, await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct))); // rows 0, 1, 2
    }

    [Fact]
    public async Task ExecuteAndCommitAsync_with_SQL_on_SQLite_waits_for_the_write_lock_without_a_thread_and_commits()
    {
        await using Local db = await CreateDatabaseAsync(busyTimeoutSeconds: 5);
        static void Bind(DbCommand command, long id) => command.Parameters.Add(new SqliteParameter("$id", id));

        await using (LocalSession holder = await db.OpenSessionAsync())
        {
            await InsertAsync(holder, 1, CancellationToken.None); // holds the write lock
            await using LocalSession waiting = db.CreateSession();
            ValueTask<int> last = waiting.ExecuteAndCommitAsync("INSERT INTO items VALUES ($id)", 2L, Bind);
            await Task.Delay(100);
            Assert.False(last.IsCompleted); // waiting for the lock, asynchronously (this thread ran on)
            await holder.CommitAsync();
            Assert.Equal(1, await last);
            Assert.True(waiting.IsCommitted);
        }

        await using (LocalSession session = db.CreateSession())
        {
            await Assert.ThrowsAsync<UniqueViolationException>(async () => await session.ExecuteAndCommitAsync("INSERT INTO items VALUES ($id)", 2L, Bind));
            Assert.False(session.IsCommitted);
        }

        Assert.Equal(3L, await db.ExecuteReadOnlyAsync(static (session, ct) => CountAsync(session, ct))); // rows 0, 1, 2
    }
}
