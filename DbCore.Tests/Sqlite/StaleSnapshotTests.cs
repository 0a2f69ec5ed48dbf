using System.Diagnostics;
using DbCore.Tests.Queries;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Sqlite;

/// <summary>
/// "For each row of a streamed query, update it" on one session. The stream runs on the read path (autocommit, no
/// transaction), so its open reader holds a WAL read snapshot, and the first write begins <c>BEGIN IMMEDIATE</c> on the same
/// connection. Once another request has committed after the stream started, SQLite cannot make that old snapshot a writer:
/// SQLITE_BUSY_SNAPSHOT (517), at once and for as long as the reader stays open, and the reader waits for the write. Before,
/// DbCore took 517 for an ordinary BUSY and waited out the whole busy timeout (forever with <c>CommandTimeoutSeconds</c> 0),
/// then reported the database busy (both tests below failed so: 5.0 s, <see cref="DatabaseBusyException"/>). Now the write
/// fails at once with an error that says why and what to do. Found by review (helper-30).
/// </summary>
public sealed class StaleSnapshotTests : IDisposable
{
    private const int BusyTimeoutSeconds = 5;

    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-snapshot-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<QuerySqlite> CreateDatabaseAsync()
    {
        var settings = new QuerySqliteSettings { ConnectionString = $"Data Source={Path.Combine(_directory, "snapshot.db")}", CommandTimeoutSeconds = BusyTimeoutSeconds };
        settings.Retry.MaxAttempts = 1;
        var db = new QuerySqlite(settings, "Production");
        await TodoSchema.CreateAsync<QuerySqlite, QuerySqliteSession>(db, TodoSchema.Sqlite);
        for (int i = 0; i < 3; i++)
        {
            string title = "todo " + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await db.ExecuteAsync((s, ct) => s.InsertAsync(title, false, Priority.Low, null, ct));
        }

        return db;
    }

    [Fact]
    public async Task A_typed_write_inside_a_streamed_read_of_the_same_session_fails_at_once_when_its_snapshot_is_stale()
        => await AssertFailsAtOnceAsync(static (session, todo) => session.RenameAsync(todo.Id, todo.Title + " (seen)"));

    /// <summary>The synchronous API (<c>CreateCommand</c> of a write begins the transaction on the calling thread): no thread blocked for the busy timeout either.</summary>
    [Fact]
    public async Task A_raw_write_inside_a_streamed_read_of_the_same_session_fails_at_once_when_its_snapshot_is_stale()
        => await AssertFailsAtOnceAsync(static (session, todo) =>
        {
            using SqliteCommand update = session.CreateCommand("UPDATE todos SET title = 'seen' WHERE id = " + todo.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return Task.FromResult(update.ExecuteNonQuery());
        });

    /// <summary>What the message advises works: the rows read into a list first, the same writes commit.</summary>
    [Fact]
    public async Task Rows_read_to_the_end_before_the_writes_commit_beside_other_requests()
    {
        await using QuerySqlite db = await CreateDatabaseAsync();
        await using (QuerySqliteSession session = await db.OpenSessionAsync())
        {
            var todos = new List<Todo>();
            await foreach (Todo todo in session.StreamAsync())
            {
                todos.Add(todo);
            }

            await db.ExecuteAsync((s, ct) => s.InsertAsync("other request", false, Priority.Low, null, ct));
            foreach (Todo todo in todos)
            {
                await session.RenameAsync(todo.Id, todo.Title + " (seen)");
            }

            await session.CommitAsync();
        }

        long renamed = await db.ExecuteReadOnlyAsync(static async (session, ct) =>
        {
            await using SqliteCommand count = session.CreateCommand("SELECT count(*) FROM todos WHERE title LIKE '% (seen)'");
            return (long)(await count.ExecuteScalarAsync(ct))!;
        });
        Assert.Equal(3, renamed);
    }

    private async Task AssertFailsAtOnceAsync(Func<QuerySqliteSession, Todo, Task> write)
    {
        await using QuerySqlite db = await CreateDatabaseAsync();
        Exception? failure = null;
        TimeSpan waited = TimeSpan.Zero;
        await using (QuerySqliteSession session = await db.OpenSessionAsync())
        {
            await foreach (Todo todo in session.StreamAsync())
            {
                // Another request commits while this one streams (any concurrent write does).
                await db.ExecuteAsync((s, ct) => s.InsertAsync("other request", false, Priority.Low, null, ct));
                var clock = Stopwatch.StartNew();
                failure = await Record.ExceptionAsync(() => write(session, todo));
                waited = clock.Elapsed;
                break;
            }
        }

        // Nobody held the write lock: a write of another session goes through at once.
        var free = Stopwatch.StartNew();
        await db.ExecuteAsync((s, ct) => s.RenameAsync(1, "free", ct));
        Assert.True(free.Elapsed < TimeSpan.FromSeconds(1), $"the write lock was held by someone: {free.Elapsed}");

        Assert.True(waited < TimeSpan.FromSeconds(1), $"the write waited {waited.TotalSeconds:F1} s (busy timeout {BusyTimeoutSeconds} s) for a snapshot only the session's own reader held; then {failure?.GetType().Name}: {failure?.Message}");
        var error = Assert.IsType<DbCoreException>(failure);
        Assert.Equal("517", error.SqlState);
        Assert.False(error.IsTransient);
        Assert.Contains("SQLITE_BUSY_SNAPSHOT", error.Message, StringComparison.Ordinal);
        Assert.Contains("before writing", error.Message, StringComparison.Ordinal);
    }
}
