using System.Diagnostics;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.Resilience;

/// <summary>Each SQLite error category provoked for real on a file database.</summary>
public sealed class SqliteErrorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-resilience-").FullName;

    private string DatabasePath => Path.Combine(_directory, "errors.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private Local CreateDatabase(LogCollector? logs = null, int commandTimeoutSeconds = 30, int maxAttempts = 3)
    {
        var settings = new LocalSettings { ConnectionString = $"Data Source={DatabasePath};Foreign Keys=True", CommandTimeoutSeconds = commandTimeoutSeconds };
        settings.Retry.MaxAttempts = maxAttempts;
        settings.Retry.BaseDelayMilliseconds = 10;
        settings.Retry.MaxDelayMilliseconds = 100;
        return new Local(settings, "Production", logs);
    }

    private static async Task ExecAsync(LocalSession session, string sql, CancellationToken ct = default)
    {
        await using SqliteCommand command = session.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(ct);
    }

    public static TheoryData<string, string, string, Type, string, string?, string?> ConstraintCases => new()
    {
        { "unique", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE); INSERT INTO users VALUES (1, 'a@x');", "INSERT INTO users VALUES (2, 'a@x')", typeof(UniqueViolationException), "2067", null, "users" },
        { "primary key", "CREATE TABLE tags (name TEXT PRIMARY KEY); INSERT INTO tags VALUES ('a');", "INSERT INTO tags VALUES ('a')", typeof(UniqueViolationException), "1555", null, "tags" },
        { "foreign key", "CREATE TABLE parents (id INTEGER PRIMARY KEY); CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id));", "INSERT INTO children VALUES (1, 42)", typeof(ForeignKeyViolationException), "787", null, null },
        { "not null", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);", "INSERT INTO items (id) VALUES (1)", typeof(NotNullViolationException), "1299", null, "items" },
        { "check", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER CONSTRAINT balance_non_negative CHECK (balance >= 0));", "INSERT INTO accounts VALUES (1, -5)", typeof(CheckViolationException), "275", "balance_non_negative", null },
    };

    [Theory]
    [MemberData(nameof(ConstraintCases))]
    public async Task Constraint_violation_is_typed_and_never_retried(string category, string setup, string failing, Type expected, string code, string? constraint, string? table)
    {
        var logs = new LogCollector();
        await using Local db = CreateDatabase(logs);
        await db.ExecuteAsync((session, ct) => ExecAsync(session, setup, ct));
        int attempts = 0;

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await ExecAsync(session, failing, ct);
        }));

        Assert.IsType(expected, ex);
        Assert.Equal(code, ex.SqlState);
        Assert.Equal(constraint, ex.ConstraintName);
        Assert.Equal(table, ex.TableName);
        Assert.False(ex.IsTransient, category);
        Assert.Equal(int.Parse(code, System.Globalization.CultureInfo.InvariantCulture), Assert.IsType<SqliteException>(ex.InnerException).SqliteExtendedErrorCode);
        Assert.Equal(1, attempts);
        Assert.Empty(logs.Named("Retrying"));
    }

    [Fact]
    public async Task Busy_database_is_typed_and_transient()
    {
        await using Local db = CreateDatabase(commandTimeoutSeconds: 1, maxAttempts: 1);
        await db.ExecuteAsync((session, ct) => ExecAsync(session, "CREATE TABLE items (id INTEGER PRIMARY KEY)", ct));
        await using var holder = new SqliteConnection($"Data Source={DatabasePath}");
        await holder.OpenAsync();
        await using (SqliteCommand begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE; INSERT INTO items VALUES (1);";
            await begin.ExecuteNonQueryAsync();
        }

        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<DatabaseBusyException>(() => db.ExecuteAsync((session, ct) => ExecAsync(session, "INSERT INTO items VALUES (2)", ct)));

        Assert.True(ex.IsTransient);
        Assert.Equal("5", ex.SqlState);
        Assert.Equal(5, Assert.IsType<SqliteException>(ex.InnerException).SqliteErrorCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"BUSY came after {clock.Elapsed}, before the 1 s busy wait");
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task Missing_directory_is_a_non_transient_connection_failure()
    {
        var settings = new LocalSettings { ConnectionString = $"Data Source={Path.Combine(_directory, "missing", "x.db")}" };
        await using var db = new Local(settings, "Production");

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(async () => await db.OpenSessionAsync());

        Assert.False(ex.IsTransient);
        Assert.Equal(14, Assert.IsType<SqliteException>(ex.InnerException).SqliteErrorCode);
    }
}
