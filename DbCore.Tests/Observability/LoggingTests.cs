using System.Reflection;
using DbCore.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbCore.Tests.Observability;

/// <summary>DbCore's log events: the startup line, and the event-id table of docs/observability.md.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LoggingTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Startup_line_names_environment_provider_pool_sizes_host_and_database()
    {
        var logs = new LogCollector();
        using ILoggerFactory loggerFactory = logs.CreateFactory();
        string connectionString = await server.CreateDatabaseAsync("logging");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;

        await using var db = new Pg(new PgSettings { ConnectionString = connectionString }, "Development", loggerFactory);

        LogRecord startup = Assert.Single(logs.Records, r => r.Category == "DbCore.Pg" && r.EventId.Id == 1);
        Assert.Equal("DatabaseStarted", startup.EventId.Name);
        Assert.Equal(LogLevel.Information, startup.Level);
        Assert.Equal(
            $"DbCore Pg ready: environment Development, provider PostgreSql, pool size 5, max 15, host 127.0.0.1, database {database}",
            startup.Message);
        Assert.DoesNotContain(server.Password, startup.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_log_event_has_a_unique_id_and_is_documented()
    {
        LoggerMessageAttribute[] events = new[] { typeof(Log), typeof(DbCore.AspNetCore.Log) }
            .SelectMany(log => log.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToArray();
        Assert.NotEmpty(events);
        Assert.Equal(events.Length, events.Select(e => e.EventId).Distinct().Count());

        string docs = File.ReadAllText(Path.Combine(TestsDirectory(), "..", "docs", "observability.md"));
        // An event whose level is a parameter (chosen per cause) is documented as "by cause".
        Assert.All(events, e => Assert.Contains($"| {e.EventId} | `{e.EventName}` | {(e.Level == LogLevel.None ? "by cause" : e.Level.ToString())} |", docs));
    }

    private static string TestsDirectory()
        => typeof(LoggingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "DbCoreTestsDirectory").Value!;

    [PostgresFact]
    public async Task Failed_unit_is_logged_once_at_the_level_its_cause_deserves()
    {
        var logs = new LogCollector();
        using ILoggerFactory loggerFactory = logs.CreateFactory();
        string cs = await server.CreateDatabaseAsync("loglevels");
        await Resilience.Resilient.AdminAsync(cs, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1)");
        await using var db = new Pg(new PgSettings { ConnectionString = cs }, "Production", loggerFactory);
        using var cancelled = new CancellationTokenSource();

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(static (_, _) => throw new InvalidOperationException("business rule")));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilience.Resilient.NonQueryAsync(session, "SELECT 1", ct);
            await cancelled.CancelAsync(); // the client went away
            ct.ThrowIfCancellationRequested();
        }, cancelled.Token));
        await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync(static (session, ct) => Resilience.Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct)));
        await Assert.ThrowsAsync<DbCoreException>(() => db.ExecuteAsync(static (session, ct) => Resilience.Resilient.NonQueryAsync(session, "SELECT * FROM no_such_table", ct)));

        LogRecord[] failed = [.. logs.Named("UnitOfWorkRolledBack")];
        Assert.Equal(4, failed.Length); // once each
        Assert.Equal([LogLevel.Debug, LogLevel.Debug, LogLevel.Information, LogLevel.Warning], failed.Select(r => r.Level));
        Assert.Equal([null, null, null], failed.Take(3).Select(r => r.Exception)); // no stack trace for business outcomes
        Assert.NotNull(failed[3].Exception);
        Assert.DoesNotContain(logs.Records, r => r.Level >= LogLevel.Warning && r.EventId.Name != "UnitOfWorkRolledBack");
    }
}
