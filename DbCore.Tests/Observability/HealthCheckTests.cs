using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbCore.Tests.Observability;

/// <summary><c>AddPgHealthCheck</c> run through a real <see cref="HealthCheckService"/>.</summary>
[Collection(PostgresCollection.Name)]
public sealed class HealthCheckTests(PostgresServer server)
{
    private static ServiceProvider BuildProvider(string connectionString, LogCollector logs, Action<IHealthChecksBuilder> addChecks, Action<PgSettings>? configure = null)
    {
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddPg(configure: settings =>
            {
                settings.ConnectionString = connectionString;
                settings.Pool.AcquireTimeoutSeconds = 3;
                configure?.Invoke(settings);
            });
        addChecks(services.AddHealthChecks());
        return services.BuildServiceProvider();
    }

    private string ClosedPortConnectionString() => $"Host=127.0.0.1;Port={Endpoints.ClosedPort()};Database=gone;Username=postgres;Password={server.Password}";

    [PostgresFact]
    public async Task Reachable_database_is_healthy_under_the_given_name_and_tags()
    {
        string connectionString = await server.CreateDatabaseAsync("health");
        await using ServiceProvider provider = BuildProvider(connectionString, new LogCollector(), checks => checks.AddPgHealthCheck(name: "orders-db", tags: ["db", "ready"]));

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"));

        Assert.Equal(HealthStatus.Healthy, report.Status);
        HealthReportEntry entry = Assert.Single(report.Entries).Value;
        Assert.Equal("orders-db", Assert.Single(report.Entries).Key);
        Assert.Equal(["db", "ready"], entry.Tags.Order());
        Assert.Equal("Pg answered SELECT 1.", entry.Description);
        Assert.Equal("PostgreSql", entry.Data["provider"]);
    }

    [PostgresFact]
    public async Task Unreachable_database_reports_the_failure_status_with_the_reason()
    {
        var logs = new LogCollector();
        await using ServiceProvider provider = BuildProvider(ClosedPortConnectionString(), logs, checks => checks.AddPgHealthCheck(failureStatus: HealthStatus.Degraded));

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = report.Entries["Pg"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.StartsWith("Pg: ", entry.Description);
        Assert.Contains("Failed to connect", entry.Description);
        Assert.Null(entry.Exception);
        Assert.Contains(logs.Records, r => r.EventId.Id == 5 && r.Message.Contains("Failed to connect"));
    }

    [PostgresFact]
    public async Task A_server_that_does_not_answer_is_unhealthy_with_the_timeout_as_the_reason()
    {
        using TcpListener silent = Endpoints.Silent();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using ServiceProvider provider = BuildProvider(
            $"Host=127.0.0.1;Port={port};Database=silent;Username=postgres;Password={server.Password}",
            new LogCollector(),
            checks => checks.AddPgHealthCheck(timeout: TimeSpan.FromSeconds(1)));

        var stopwatch = Stopwatch.StartNew();
        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        HealthReportEntry entry = report.Entries["Pg"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("no answer to SELECT 1 within", entry.Description);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }

    [PostgresFact]
    public async Task The_accessor_health_timeout_applies_when_the_registration_sets_none()
    {
        using TcpListener silent = Endpoints.Silent();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using ServiceProvider provider = BuildProvider(
            $"Host=127.0.0.1;Port={port};Database=silent;Username=postgres;Password={server.Password}",
            new LogCollector(),
            checks => checks.AddPgHealthCheck(),
            settings => settings.HealthTimeoutSeconds = 1);

        HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal("Pg: no answer to SELECT 1 within 1 s", report.Entries["Pg"].Description);
    }

    [PostgresFact]
    public async Task Caller_cancellation_propagates_and_is_not_reported_as_unhealthy()
    {
        using TcpListener silent = Endpoints.Silent();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var logs = new LogCollector();
        await using ServiceProvider provider = BuildProvider(
            $"Host=127.0.0.1;Port={port};Database=silent;Username=postgres;Password={server.Password}",
            logs,
            checks => checks.AddPgHealthCheck());
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellation.Token));

        Assert.DoesNotContain(logs.Records, r => r.EventId.Id == 5);
    }

    [PostgresFact]
    public async Task Repeated_checks_reuse_the_one_probe_connection()
    {
        string connectionString = await server.CreateDatabaseAsync("health");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using ServiceProvider provider = BuildProvider(connectionString, new LogCollector(), checks => checks.AddPgHealthCheck());
        var health = provider.GetRequiredService<HealthCheckService>();

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        }

        // Five checks through the probe's one-connection data source leave one backend; a data source or an unpooled
        // connection per check would leave five or none.
        await using var connection = new NpgsqlConnection(server.BuildConnectionString("postgres", pooling: false));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = @db", connection);
        command.Parameters.AddWithValue("db", database);
        Assert.Equal(1L, (long)(await command.ExecuteScalarAsync())!);
        Assert.Equal(0, provider.GetRequiredService<Pg>().GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task A_saturated_pool_on_a_healthy_server_is_healthy_to_the_probe_and_degraded_to_the_check()
    {
        string connectionString = await server.CreateDatabaseAsync("health");
        await using ServiceProvider provider = BuildProvider(connectionString, new LogCollector(), checks => checks.AddPgHealthCheck(), settings =>
        {
            settings.Pool.Size = 2;
            settings.Pool.MaxOverflow = 0;
            settings.Pool.AcquireTimeoutSeconds = 60;
            settings.HealthTimeoutSeconds = 2;
        });
        var db = provider.GetRequiredService<Pg>();
        var health = provider.GetRequiredService<HealthCheckService>();

        // Every pooled connection is held by an open session, and one more caller waits for a connection.
        PgSession first = await db.OpenSessionAsync();
        PgSession second = await db.OpenSessionAsync();
        ValueTask<PgSession> third = db.OpenSessionAsync();
        while (db.GetPoolStatistics().Waiting == 0)
        {
            await Task.Delay(10);
        }

        Assert.True(await db.CheckHealthAsync());
        HealthReportEntry busy = (await health.CheckHealthAsync()).Entries["Pg"];
        Assert.Equal(HealthStatus.Degraded, busy.Status);
        Assert.Equal("Pg: all 2 connections in use, 1 caller waiting", busy.Description);
        Assert.Equal(2, db.GetPoolStatistics().InUse); // the probe is not a session

        await first.DisposeAsync();
        await (await third).DisposeAsync();
        await second.DisposeAsync();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["Pg"].Status);
        Assert.True(await db.CheckHealthAsync());
    }

    [PostgresFact]
    public async Task Many_sessions_on_a_multiplexed_pool_are_not_reported_as_saturation()
    {
        // With Multiplexing=true, sessions that only read hold no physical connection: counting them against Pool:Size +
        // Pool:MaxOverflow would report Degraded for a pool that is fine.
        string connectionString = new Npgsql.NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync("healthmux")) { Multiplexing = true }.ConnectionString;
        await using ServiceProvider provider = BuildProvider(connectionString, new LogCollector(), checks => checks.AddPgHealthCheck(), settings =>
        {
            settings.Pool.Size = 1;
            settings.Pool.MaxOverflow = 1;
        });
        var db = provider.GetRequiredService<Pg>();
        var health = provider.GetRequiredService<HealthCheckService>();
        var sessions = new List<PgSession>();
        for (int i = 0; i < 3; i++)
        {
            sessions.Add(await db.OpenSessionAsync());
        }

        Assert.Equal(3, db.GetPoolStatistics().InUse);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Entries["Pg"].Status);
        foreach (PgSession session in sessions)
        {
            await session.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(5000, 5000, 4750)]
    [InlineData(5000, 1000, 900)]
    [InlineData(1000, -1, 1000)]
    [InlineData(1000, 10000, 1000)]
    public void Probe_ends_before_the_registration_timeout(int timeoutMs, int registrationMs, int expectedMs)
    {
        TimeSpan registration = registrationMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(registrationMs);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), DbCore.Infrastructure.DatabaseHealthCheck.ProbeTimeout(TimeSpan.FromMilliseconds(timeoutMs), registration));
    }
}
