using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore.Tests.Sqlite;

public sealed class SqliteSessionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-sqlite-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    public static TheoryData<string> Databases => new() { "file", "memory" };

    private Database CreateDatabase(string kind, int? healthTimeout = null)
    {
        string connectionString = kind == "file" ? $"Data Source={Path.Combine(_directory, "app.db")}" : "Data Source=:memory:";
        var settings = new DatabaseSettings { ConnectionString = connectionString, HealthTimeoutSeconds = healthTimeout };
        return new Database(settings, environment: "Development");
    }

    private static async Task CreateTableAsync(Database db)
        => await db.ExecuteAsync(static async (session, ct) =>
        {
            await using var command = session.CreateCommand("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
            await command.ExecuteNonQueryAsync(ct);
        });

    private static Task<long> CountAsync(Database db, string name)
        => db.ExecuteAsync(async (session, ct) =>
        {
            await using var command = session.CreateCommand("SELECT COUNT(*) FROM items WHERE name = $name");
            command.Parameters.Add(new SqliteParameter("$name", name));
            return (long)(await command.ExecuteScalarAsync(ct))!;
        });

    private static async Task InsertAsync(DbSession session, string name, CancellationToken ct = default)
    {
        await using var command = session.CreateCommand("INSERT INTO items (name) VALUES ($name)");
        command.Parameters.Add(new SqliteParameter("$name", name));
        await command.ExecuteNonQueryAsync(ct);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Commit_persists(string kind)
    {
        await using Database db = CreateDatabase(kind);
        await CreateTableAsync(db);

        await db.ExecuteAsync((session, ct) => InsertAsync(session, "kept", ct));

        Assert.Equal(1, await CountAsync(db, "kept"));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Exception_inside_unit_of_work_rolls_back(string kind)
    {
        await using Database db = CreateDatabase(kind);
        await CreateTableAsync(db);

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await InsertAsync(session, "lost", ct);
            throw new InvalidOperationException("boom");
        }));

        Assert.Equal("boom", thrown.Message);
        Assert.Equal(0, await CountAsync(db, "lost"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Disposal_without_commit_rolls_back(string kind)
    {
        await using Database db = CreateDatabase(kind);
        await CreateTableAsync(db);

        await using (DatabaseSession session = await db.OpenSessionAsync())
        {
            await InsertAsync(session, "uncommitted");
        }

        using (DatabaseSession session = db.CreateSession())
        {
            await InsertAsync(session, "uncommitted");
        }

        Assert.Equal(0, await CountAsync(db, "uncommitted"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task Open_and_dispose_report_cancellation_and_errors_in_their_tasks()
    {
        // SQLite opens and disposes without an async state machine (Microsoft.Data.Sqlite's async API is synchronous):
        // callers still see what an async method gives, no synchronous throw, a Canceled task, a Faulted one.
        await using Database db = CreateDatabase("file");
        await CreateTableAsync(db);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        ValueTask<DatabaseSession> open = db.OpenSessionAsync(cancelled.Token);
        Assert.True(open.IsCanceled, $"OpenSessionAsync with a cancelled token: {open.IsCompleted}");
        DatabaseSession lazy = db.CreateSession();
        ValueTask openLazy = lazy.OpenAsync(cancelled.Token);
        Assert.True(openLazy.IsCanceled);
        Assert.False(lazy.IsOpen);
        await lazy.DisposeAsync();

        DatabaseSession disposed = db.CreateSession();
        await disposed.DisposeAsync();
        ValueTask afterDispose = disposed.OpenAsync();
        Assert.True(afterDispose.IsFaulted);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => afterDispose.AsTask());

        // A session that wrote and was disposed without commit: DisposeAsync rolled back (synchronously) and completed.
        DatabaseSession writer = await db.OpenSessionAsync();
        await InsertAsync(writer, "rolled back");
        ValueTask dispose = writer.DisposeAsync();
        Assert.True(dispose.IsCompletedSuccessfully);
        Assert.Equal(0, await CountAsync(db, "rolled back"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Explicit_commit_on_an_opened_session_persists(string kind)
    {
        await using Database db = CreateDatabase(kind);
        await CreateTableAsync(db);

        await using (DatabaseSession session = await db.OpenSessionAsync())
        {
            await InsertAsync(session, "committed");
            await session.CommitAsync();
            Assert.True(session.IsCommitted);
        }

        Assert.Equal(1, await CountAsync(db, "committed"));
    }

    [Fact]
    public async Task Scoped_session_is_opened_lazily_and_disposed_with_its_scope()
    {
        var services = new ServiceCollection();
        services.AddDatabase(new ConfigurationBuilder().Build(), s => s.ConnectionString = $"Data Source={Path.Combine(_directory, "scoped.db")}");
        await using ServiceProvider provider = services.BuildServiceProvider();
        Database db = provider.GetRequiredService<Database>();
        await CreateTableAsync(db);

        DatabaseSession session;
        using (IServiceScope scope = provider.CreateScope())
        {
            session = scope.ServiceProvider.GetRequiredService<DatabaseSession>();
            Assert.Same(session, scope.ServiceProvider.GetRequiredService<DatabaseSession>());
            Assert.False(session.IsOpen);
            await InsertAsync(session, "scoped"); // opens synchronously on first use
            Assert.True(session.IsOpen);
            Assert.Equal(1, db.GetPoolStatistics().InUse);
        }

        Assert.False(session.IsOpen);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.Equal(0, await CountAsync(db, "scoped"));

        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            DatabaseSession committed = scope.ServiceProvider.GetRequiredService<DatabaseSession>();
            await committed.OpenAsync();
            await InsertAsync(committed, "scoped");
            await committed.CommitAsync();
        }

        Assert.Equal(1, await CountAsync(db, "scoped"));
    }

    [Theory]
    [MemberData(nameof(Databases))]
    public async Task Health_is_true_for_a_working_database(string kind)
    {
        await using Database db = CreateDatabase(kind);
        Assert.True(await db.CheckHealthAsync());
    }

    [Fact]
    public async Task Health_is_false_for_a_database_that_cannot_be_opened()
    {
        var settings = new DatabaseSettings { ConnectionString = $"Data Source={Path.Combine(_directory, "missing", "dir", "app.db")}", HealthTimeoutSeconds = 2 };
        await using var db = new Database(settings, "Development");

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(await db.CheckHealthAsync());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "health check must answer within its timeout");
    }

    [Fact]
    public async Task Health_throws_only_for_caller_cancellation()
    {
        await using Database db = CreateDatabase("memory");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.CheckHealthAsync(cancelled.Token));
    }

    [Fact]
    public async Task In_memory_database_is_shared_by_sessions_of_one_accessor_and_private_to_it()
    {
        await using Database first = CreateDatabase("memory");
        await using Database second = CreateDatabase("memory");
        await CreateTableAsync(first);
        await first.ExecuteAsync((s, ct) => InsertAsync(s, "a", ct));

        Assert.Equal(1, await CountAsync(first, "a"));
        await CreateTableAsync(second); // would fail if the table were shared
        Assert.Equal(0, await CountAsync(second, "a"));
    }

    [Fact]
    public async Task File_database_uses_wal()
    {
        await using Database db = CreateDatabase("file");
        string mode = await db.ExecuteAsync(async (session, ct) =>
        {
            await using var command = session.CreateCommand("PRAGMA journal_mode");
            return (string)(await command.ExecuteScalarAsync(ct))!;
        });
        Assert.Equal("wal", mode);
    }

    [Fact]
    public async Task Pool_statistics_count_sessions()
    {
        await using Database db = CreateDatabase("memory");
        await using (DatabaseSession session = await db.OpenSessionAsync())
        {
            PoolStatistics during = db.GetPoolStatistics();
            Assert.Equal(1, during.InUse);
            Assert.Equal(0, during.Waiting);
            Assert.Equal(5, during.MinSize);
            Assert.Equal(15, during.MaxSize);
        }

        PoolStatistics after = db.GetPoolStatistics();
        Assert.Equal(0, after.InUse);
        Assert.Equal(1, after.TotalOpened);
    }

    [Fact]
    public async Task Pinned_sqlite_session_exposes_sqlite_types()
    {
        await using var db = new Local(new LocalSettings(), "Development");
        await using LocalSession session = await db.OpenSessionAsync();
        SqliteConnection connection = session.Connection;
        SqliteCommand command = session.CreateCommand("SELECT 1");
        Assert.Same(connection, command.Connection);
        Assert.Same(session.Transaction, command.Transaction);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
        Assert.Equal(1, db.Pool.Size);
        Assert.Equal(2, db.Pool.MaxSize);
    }

    /// <summary>Whether the database a raw connection opens has the <c>items</c> table (a fresh in-memory one has not).</summary>
    private static async Task<bool> ItemsTableExistsAsync(string connectionString)
    {
        await using var raw = new SqliteConnection(connectionString);
        await raw.OpenAsync();
        await using SqliteCommand command = raw.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'items'";
        return (long)(await command.ExecuteScalarAsync())! != 0;
    }

    [Fact]
    public async Task Disposing_an_in_memory_accessor_frees_its_database()
    {
        string connectionString;
        await using (Database db = CreateDatabase("memory"))
        {
            await CreateTableAsync(db);
            await db.ExecuteAsync((session, ct) => InsertAsync(session, "row", ct));
            connectionString = db.DataSource.ConnectionString; // the named shared-cache database DbCore made of :memory:
        }

        // Nothing of the accessor may keep the database alive, not even a handle idle in Microsoft.Data.Sqlite's pool.
        Assert.False(await ItemsTableExistsAsync(connectionString));
    }

    [Fact]
    public async Task A_disposed_in_memory_accessor_throws_on_use_and_leaves_no_database_alive()
    {
        Database db = CreateDatabase("memory");
        string connectionString = db.DataSource.ConnectionString;
        await db.DisposeAsync();

        // E.g. a request still running while the host shuts down: it must not bring the database back to life with a
        // keep-alive connection that nothing closes any more.
        await Assert.ThrowsAsync<ObjectDisposedException>(() => CreateTableAsync(db));

        Assert.False(await ItemsTableExistsAsync(connectionString));
    }
}
