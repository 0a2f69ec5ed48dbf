using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Tests.Observability;

/// <summary>The values DbCore's meter records, read with a <see cref="System.Diagnostics.Metrics.MeterListener"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class MetricsTests(PostgresServer server)
{
    private static string TempSqliteFile()
    {
        string directory = Path.Combine(Path.GetTempPath(), "dbcore-metrics-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "metrics.db");
    }

    [Fact]
    public async Task Three_units_of_work_record_three_sessions_one_rollback_and_balanced_active_count()
    {
        using var metrics = new MetricCapture();
        string file = TempSqliteFile();
        await using var db = new Local(new LocalSettings { ConnectionString = "Data Source=" + file }, "Development");

        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("CREATE TABLE t (x INTEGER)");
            await command.ExecuteNonQueryAsync(ct);
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("INSERT INTO t VALUES (1)");
            await command.ExecuteNonQueryAsync(ct);
            throw new InvalidOperationException("boom");
        }));
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand command = session.CreateCommand("INSERT INTO t VALUES (2)");
            await command.ExecuteNonQueryAsync(ct);
        });

        IReadOnlyList<MeasurementRecord> durations = metrics.For("dbcore.session.duration", file);
        Assert.Equal(3, durations.Count);
        Assert.All(durations, d => Assert.InRange(d.Value, 0, 60));
        Assert.Equal(3, metrics.For("dbcore.connection.acquire.duration", file).Count);

        double[] active = metrics.For("dbcore.session.active", file).Select(m => m.Value).ToArray();
        Assert.Equal([1, -1, 1, -1, 1, -1], active);

        MeasurementRecord rollback = Assert.Single(metrics.For("dbcore.rollbacks", file));
        Assert.Equal(1, rollback.Value);
        Assert.Empty(metrics.For("dbcore.retries", file));

        MeasurementRecord sample = durations[0];
        Assert.Equal("sqlite", sample.Tag("db.system"));
        Assert.Equal("sqlite", sample.Tag("db.system.name"));
        Assert.Equal("Local", sample.Tag("db.client.connection.pool.name"));
        Assert.Equal("Development", sample.Tag("deployment.environment.name"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Postgres_measurements_carry_the_database_name_and_count_each_rollback_once()
    {
        using var metrics = new MetricCapture();
        string connectionString = await server.CreateDatabaseAsync("metrics");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var db = new Pg(new PgSettings { ConnectionString = connectionString }, "Production");

        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using NpgsqlCommand command = session.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(ct);
        });
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(static (session, ct) =>
        {
            _ = session.Transaction; // begun: a unit whose transaction never began has nothing to roll back
            throw new InvalidOperationException("boom");
        }));
        await using (PgSession session = await db.OpenSessionAsync())
        {
            _ = session.Transaction;
            await session.RollbackAsync();
        }

        await using (PgSession session = await db.OpenSessionAsync())
        {
            // disposed without commit: rolled back and counted once
            _ = session.Transaction;
        }

        await using (PgSession session = await db.OpenSessionAsync())
        {
            // only read (the read path): no transaction, so no rollback
            await using NpgsqlCommand command = session.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync();
        }

        Assert.Equal(3, metrics.For("dbcore.rollbacks", database).Sum(m => m.Value));
        Assert.Equal(5, metrics.For("dbcore.session.duration", database).Count);
        Assert.Equal(0, metrics.For("dbcore.session.active", database).Sum(m => m.Value));
        MeasurementRecord sample = metrics.For("dbcore.rollbacks", database)[0];
        Assert.Equal("postgresql", sample.Tag("db.system"));
        Assert.Equal("Pg", sample.Tag("db.client.connection.pool.name"));
        Assert.Equal("Production", sample.Tag("deployment.environment.name"));
    }

    [PostgresFact]
    public async Task Waiting_callers_and_pool_bounds_are_observed_and_an_acquire_timeout_is_counted()
    {
        using var metrics = new MetricCapture();
        string connectionString = await server.CreateDatabaseAsync("metrics");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var settings = new PgSettings { ConnectionString = connectionString };
        settings.Pool.Size = 1;
        settings.Pool.MaxOverflow = 0;
        settings.Pool.AcquireTimeoutSeconds = 2;
        await using var db = new Pg(settings, "Development");

        await using (PgSession holder = await db.OpenSessionAsync())
        {
            Task<PgSession> waiter = db.OpenSessionAsync().AsTask();
            await WaitUntilAsync(() => db.GetPoolStatistics().Waiting == 1);

            metrics.Observe();
            Assert.Equal(1, metrics.For("dbcore.connection.pending_requests", database)[^1].Value);
            Assert.Equal(1, metrics.For("dbcore.connection.max", database)[^1].Value);
            Assert.Equal(1, metrics.For("dbcore.connection.idle.min", database)[^1].Value);

            await Assert.ThrowsAsync<PoolExhaustedException>(() => waiter);
        }

        MeasurementRecord timeout = Assert.Single(metrics.For("dbcore.connection.timeouts", database));
        Assert.Equal(1, timeout.Value);

        metrics.Observe();
        Assert.Equal(0, metrics.For("dbcore.connection.pending_requests", database)[^1].Value);
    }

    [PostgresFact]
    public async Task A_disposed_accessor_is_no_longer_observed()
    {
        using var metrics = new MetricCapture();
        string connectionString = await server.CreateDatabaseAsync("metrics");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var db = new Pg(new PgSettings { ConnectionString = connectionString }, "Development");
        metrics.Observe();
        Assert.Single(metrics.For("dbcore.connection.max", database));

        await db.DisposeAsync();
        metrics.Observe();
        Assert.Single(metrics.For("dbcore.connection.max", database));
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition());
    }
}
