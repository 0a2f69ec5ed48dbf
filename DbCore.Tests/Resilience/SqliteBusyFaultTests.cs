using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.Resilience;

/// <summary>Fault test (c): concurrent SQLite writers hit BUSY, are retried, and no row is lost.</summary>
public sealed class SqliteBusyFaultTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-busy-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Concurrent_writers_hit_busy_and_are_retried_without_losing_rows()
    {
        const int Writers = 8;
        const int RowsPerWriter = 20;
        var logs = new LogCollector();
        var settings = new LocalSettings { ConnectionString = $"Data Source={Path.Combine(_directory, "busy.db")}", CommandTimeoutSeconds = 1 };
        settings.Retry.MaxAttempts = 10;
        settings.Retry.BaseDelayMilliseconds = 20;
        settings.Retry.MaxDelayMilliseconds = 200;
        await using var db = new Local(settings, "Production", logs);
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("CREATE TABLE rows (writer INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (writer, n))");
            await command.ExecuteNonQueryAsync(ct);
        });

        // A hog holds the write lock until a writer waiting behind it has given up after the 1 s busy wait and been
        // retried (deterministic on a loaded machine, unlike a fixed hold time), at most 15 s.
        Task hog = db.ExecuteAsync(async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("INSERT INTO rows VALUES (-1, 0)");
            await command.ExecuteNonQueryAsync(ct);
            var held = System.Diagnostics.Stopwatch.StartNew();
            while (logs.Named("Retrying").Count == 0 && held.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(50, ct);
            }
        });
        await Task.Delay(100);

        Task[] writers = [.. Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            for (int n = 0; n < RowsPerWriter; n++)
            {
                await db.ExecuteAsync(async (session, ct) =>
                {
                    await using SqliteCommand command = session.CreateCommand("INSERT INTO rows VALUES ($writer, $n)");
                    command.Parameters.AddWithValue("$writer", writer);
                    command.Parameters.AddWithValue("$n", n);
                    await command.ExecuteNonQueryAsync(ct);
                });
            }
        }))];
        await Task.WhenAll([hog, .. writers]).WaitAsync(TimeSpan.FromSeconds(28));

        long rows = await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("SELECT COUNT(*) FROM rows");
            return (long)(await command.ExecuteScalarAsync(ct))!;
        });
        Assert.Equal((Writers * RowsPerWriter) + 1, rows);
        var retries = logs.Named("Retrying");
        Assert.NotEmpty(retries);
        Assert.All(retries, r => Assert.Equal(nameof(DatabaseBusyException), r["ErrorType"]));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
