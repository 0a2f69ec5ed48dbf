using DbCore.Infrastructure;
using DbCore.Tests.Queries;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Sqlite;

/// <summary>
/// A SQLite file's connections stay open between sessions (SqliteConnectionCache), so typed queries keep their statements
/// prepared; each connection is handed on only as clean as Microsoft.Data.Sqlite's Close would leave it.
/// </summary>
public sealed class ConnectionReuseTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-reuse-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string File(string name) => Path.Combine(_directory, name + ".db");

    private Local CreateLocal(string name, string extra = "")
        => new(new LocalSettings { ConnectionString = $"Data Source={File(name)}{extra}" }, "Production");

    private static Task ExecAsync(Local db, string sql)
        => db.ExecuteAsync(async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand(sql);
            await command.ExecuteNonQueryAsync(ct);
        });

    [Fact]
    public async Task Sessions_one_after_another_share_one_open_connection_until_the_accessor_is_disposed()
    {
        Local db = CreateLocal("share");
        SqliteConnection first = await db.ExecuteAsync((s, ct) => Task.FromResult((SqliteConnection)s.Connection));
        SqliteConnection second = await db.ExecuteAsync((s, ct) => Task.FromResult((SqliteConnection)s.Connection));
        Assert.Same(first, second);
        Assert.Equal(System.Data.ConnectionState.Open, first.State);

        await db.DisposeAsync();
        Assert.Equal(System.Data.ConnectionState.Closed, first.State);
    }

    [Fact]
    public async Task A_connection_kept_past_its_session_cannot_be_used_or_closed_while_it_waits_for_the_next()
    {
        // Before the cache (and on PostgreSQL) a connection kept past its session was closed; kept open for the next
        // session, a stale reference must not run statements on it, nor close it under the next session.
        await using Local db = CreateLocal("stale");
        await ExecAsync(db, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
        SqliteConnection stale = await db.ExecuteAsync((s, ct) => Task.FromResult((SqliteConnection)s.Connection));

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => stale.CreateCommand());
        Assert.Contains("session that has ended", error.Message);
        Assert.Throws<InvalidOperationException>(() => ((System.Data.Common.DbConnection)stale).CreateCommand());
        Assert.Throws<InvalidOperationException>(() => stale.BeginTransaction());
        Assert.Throws<InvalidOperationException>(() => stale.BeginTransaction(deferred: true));
        stale.Close();
        stale.Dispose();
        Assert.Equal(System.Data.ConnectionState.Open, stale.State);

        // The next session gets that same connection, usable and open.
        await ExecAsync(db, "INSERT INTO t DEFAULT VALUES");
        SqliteConnection next = await db.ExecuteAsync(async (s, ct) =>
        {
            await using SqliteCommand count = s.CreateCommand("SELECT COUNT(*) FROM t");
            Assert.Equal(1L, await count.ExecuteScalarAsync(ct));
            return (SqliteConnection)s.Connection;
        });
        Assert.Same(stale, next);
    }

    [Fact]
    public void The_keywords_Open_turns_into_PRAGMAs_are_the_ones_a_kept_connection_runs_again()
    {
        // A kept connection replays what Microsoft.Data.Sqlite's Open runs for the connection string (Foreign Keys,
        // Recursive Triggers; Password is applied once per native handle). A provider upgrade that adds a keyword (its main
        // branch has one for PRAGMA synchronous) fails here, so SqliteConnectionCache.ResetPragmas is reviewed with it.
        string[] known = ["Cache", "Data Source", "Default Timeout", "Foreign Keys", "Mode", "Password", "Pooling", "Recursive Triggers", "Vfs"];
        Assert.Equal(known, new SqliteConnectionStringBuilder().Keys.Cast<string>().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task With_pooling_off_every_session_has_its_own_connection_closed_at_its_end()
    {
        await using Local db = CreateLocal("nopool", ";Pooling=False");
        SqliteConnection first = await db.ExecuteAsync((s, ct) => Task.FromResult((SqliteConnection)s.Connection));
        SqliteConnection second = await db.ExecuteAsync((s, ct) => Task.FromResult((SqliteConnection)s.Connection));
        Assert.NotSame(first, second);
        Assert.Equal(System.Data.ConnectionState.Closed, first.State);
    }

    [Fact]
    public async Task The_connection_strings_pragmas_hold_again_in_the_next_session()
    {
        // Microsoft.Data.Sqlite runs the PRAGMAs of Foreign Keys and Recursive Triggers on every Open; a kept connection runs
        // them before each next session, so a session that turned one off does not leave it off. (foreign_keys cannot change
        // inside a transaction, which every DbCore session statement but a plain read runs in; recursive_triggers can.)
        await using Local db = CreateLocal("pragmas", ";Foreign Keys=True;Recursive Triggers=True");
        async Task<long> RecursiveTriggersAsync(bool turnOff) => await db.ExecuteAsync(async (session, ct) =>
        {
            if (turnOff)
            {
                await using SqliteCommand off = session.CreateCommand("PRAGMA recursive_triggers = 0");
                await off.ExecuteNonQueryAsync(ct);
            }

            await using SqliteCommand read = session.CreateCommand("PRAGMA recursive_triggers");
            return (long)(await read.ExecuteScalarAsync(ct))!;
        });

        Assert.Equal(0, await RecursiveTriggersAsync(turnOff: true));
        Assert.Equal(1, await RecursiveTriggersAsync(turnOff: false));
    }

    [Fact]
    public async Task A_reader_left_open_is_closed_before_the_connection_serves_the_next_session()
    {
        // A reader nobody disposed keeps its statement running, and with it a read snapshot of the WAL file. Handed on like
        // that, the next session would read the database as it was before later commits. Close disposes every command of
        // the connection; the connection handed on gets the same clean-up.
        await using Local db = CreateLocal("reader");
        await ExecAsync(db, "CREATE TABLE n (v INTEGER NOT NULL); INSERT INTO n VALUES (1), (2), (3)");

        SqliteDataReader? leaked = null;
        SqliteConnection used = await db.ExecuteAsync(async (session, ct) =>
        {
            SqliteCommand command = session.CreateCommand("SELECT v FROM n ORDER BY v");
            leaked = await command.ExecuteReaderAsync(ct);
            Assert.True(await leaked.ReadAsync(ct));
            return (SqliteConnection)session.Connection;
        });

        // Another connection commits a row; the next session on the reused connection sees it.
        await using (var other = new SqliteConnection($"Data Source={File("reader")}"))
        {
            other.Open();
            using SqliteCommand insert = other.CreateCommand();
            insert.CommandText = "INSERT INTO n VALUES (4)";
            insert.ExecuteNonQuery();
        }

        (SqliteConnection connection, long count) = await db.ExecuteAsync(async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("SELECT count(*) FROM n");
            return ((SqliteConnection)session.Connection, (long)(await command.ExecuteScalarAsync(ct))!);
        });
        Assert.Same(used, connection);
        Assert.Equal(4, count);
        Assert.True(leaked!.IsClosed);
    }

    [Fact]
    public async Task A_typed_query_keeps_its_statement_prepared_across_sessions_and_follows_schema_changes()
    {
        string file = File("typed");
        await using var db = new QuerySqlite(new QuerySqliteSettings { ConnectionString = $"Data Source={file}" }, "Production");
        await TodoSchema.CreateAsync<QuerySqlite, QuerySqliteSession>(db, TodoSchema.Sqlite);
        Todo written = await db.ExecuteAsync((s, ct) => s.InsertAsync("one", false, Priority.Low, null, ct));

        ReusableSqliteConnection? seen = null;
        for (int i = 0; i < 3; i++)
        {
            await using QuerySqliteSession session = await db.OpenReadOnlySessionAsync();
            Assert.Equal(written, await session.FindAsync(written.Id));
            var connection = Assert.IsType<ReusableSqliteConnection>(session.Connection);
            seen ??= connection;
            Assert.Same(seen, connection);
            Assert.Equal(1, connection.ReusedCommandCount);
        }

        // The table is replaced behind the kept statement (another connection); SQLite prepares it again by itself.
        await using (var other = new SqliteConnection($"Data Source={file}"))
        {
            other.Open();
            using SqliteCommand replace = other.CreateCommand();
            replace.CommandText = "DROP TABLE todos; " + TodoSchema.Sqlite + "; INSERT INTO todos (id, title, done) VALUES (" + written.Id + ", 'replaced', 1)";
            replace.ExecuteNonQuery();
        }

        await using (QuerySqliteSession session = await db.OpenReadOnlySessionAsync())
        {
            Assert.Equal(new Todo(written.Id, "replaced", true), await session.FindAsync(written.Id));
            Assert.Same(seen, session.Connection);
        }

        // A failed statement leaves the kept command usable.
        await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync((s, ct) => s.InsertAsync("replaced", false, Priority.Low, null, ct)));
        Todo again = await db.ExecuteAsync((s, ct) => s.InsertAsync("two", false, Priority.Low, null, ct));
        Assert.Equal("two", again.Title);
    }

    /// <summary>
    /// Restoring a backup into a running app: replacing the file under open connections is not supported by SQLite (the
    /// kept connections, like any open handle, go on writing into the unlinked file, and in WAL mode nothing refuses it).
    /// The backup API restores through SQLite's own locking instead, so every connection DbCore keeps open, read-write
    /// and read-only, reads the restored data from its next session on, and the next write lands in the file at the path.
    /// </summary>
    [Fact]
    public async Task A_backup_restored_with_the_backup_API_is_what_kept_connections_read_and_write_next()
    {
        await using Local db = CreateLocal("restore");
        await ExecAsync(db, "CREATE TABLE t (v INTEGER NOT NULL); INSERT INTO t VALUES (1)");
        Task<long> MaxAsync() => db.ExecuteReadOnlyAsync(static async (s, ct) =>
        {
            await using SqliteCommand read = s.CreateCommand("SELECT max(v) FROM t");
            return (long)(await read.ExecuteScalarAsync(ct))!;
        });
        Assert.Equal(1L, await MaxAsync());

        using (var backup = new SqliteConnection($"Data Source={File("restore-backup")};Pooling=False"))
        using (var live = new SqliteConnection($"Data Source={File("restore")};Pooling=False"))
        {
            backup.Open();
            using (SqliteCommand create = backup.CreateCommand())
            {
                create.CommandText = "CREATE TABLE t (v INTEGER NOT NULL); INSERT INTO t VALUES (100)";
                create.ExecuteNonQuery();
            }

            live.Open();
            backup.BackupDatabase(live);
        }

        Assert.Equal(100L, await MaxAsync());
        await ExecAsync(db, "INSERT INTO t VALUES (101)");
        using var fresh = new SqliteConnection($"Data Source={File("restore")};Pooling=False");
        fresh.Open();
        using SqliteCommand all = fresh.CreateCommand();
        all.CommandText = "SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY v)";
        Assert.Equal("100,101", (string)all.ExecuteScalar()!);
    }
}
