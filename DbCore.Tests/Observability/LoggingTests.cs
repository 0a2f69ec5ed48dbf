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
        LoggerMessageAttribute[] events = typeof(Log)
            .GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToArray();
        Assert.NotEmpty(events);
        Assert.Equal(events.Length, events.Select(e => e.EventId).Distinct().Count());

        string docs = File.ReadAllText(Path.Combine(TestsDirectory(), "..", "docs", "observability.md"));
        Assert.All(events, e => Assert.Contains($"| {e.EventId} | `{e.EventName}` | {e.Level} |", docs));
    }

    private static string TestsDirectory()
        => typeof(LoggingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "DbCoreTestsDirectory").Value!;
}
