using System.Diagnostics;
using System.Text;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbCore.Tests.Observability;

/// <summary>
/// Drives every logging and exception path of DbCore with known passwords (the fixture's real one, used with
/// scram-sha-256 authentication, and a wrong one) and asserts neither appears in anything a user or a sink could see.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RedactionTests(PostgresServer server)
{
    private readonly string _wrongPassword = "Wr0ngSecret" + Guid.NewGuid().ToString("N");
    private readonly StringBuilder _seen = new();
    private readonly LogCollector _logs = new();

    [PostgresFact]
    public async Task No_password_appears_in_logs_exceptions_ToString_spans_metrics_or_health_reports()
    {
        using var activities = new ActivityCapture();
        using var metrics = new MetricCapture();
        using ILoggerFactory loggerFactory = _logs.CreateFactory();
        string connectionString = await server.CreateDatabaseAsync("redaction");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        string url = $"postgresql://postgres:{server.Password}@127.0.0.1:{server.Port}/{database}";
        int closedPort = Endpoints.ClosedPort();

        // 1. Success with password authentication (keyword form and URL form), plus every ToString.
        await using (var db = new Pg(new PgSettings { ConnectionString = url }, "Production", loggerFactory))
        {
            await db.ExecuteAsync(static async (session, ct) =>
            {
                await using NpgsqlCommand command = session.CreateCommand("CREATE TABLE items (name TEXT PRIMARY KEY)");
                await command.ExecuteNonQueryAsync(ct);
            });
            See(db.ToString(), db.Settings.ToString(), db.Options.ToString(), db.Options.DisplayConnectionString, db.GetPoolStatistics().ToString(), db.Pool.ToString());

            // 2. A failing unit of work (rolled back, logged with the exception) and a provider error (unique violation).
            await CaptureAsync(() => db.ExecuteAsync(static (_, _) => throw new InvalidOperationException("boom")));
            await CaptureAsync(() => db.ExecuteAsync(static async (session, ct) =>
            {
                for (int i = 0; i < 2; i++)
                {
                    await using NpgsqlCommand command = session.CreateCommand("INSERT INTO items VALUES ('same')");
                    await command.ExecuteNonQueryAsync(ct);
                }
            }));

            // 3. A command timeout and a session disposed without commit.
            await CaptureAsync(() => db.ExecuteAsync(static async (session, ct) =>
            {
                await using NpgsqlCommand command = session.CreateCommand("SELECT pg_sleep(5)");
                command.CommandTimeout = 1;
                await command.ExecuteNonQueryAsync(ct);
            }));
            await using (PgSession session = await db.OpenSessionAsync())
            {
                See(session.ToString());
            }
        }

        var keywordSettings = new PgSettings { ConnectionString = connectionString };
        keywordSettings.Pool.Size = 1;
        keywordSettings.Pool.MaxOverflow = 0;
        keywordSettings.Pool.AcquireTimeoutSeconds = 1;
        await using (var db = new Pg(keywordSettings, "Development", loggerFactory))
        {
            // 4. Pool exhaustion.
            await using (PgSession holder = await db.OpenSessionAsync())
            {
                await CaptureAsync(async () => await db.OpenSessionAsync());
            }

            See(db.ToString(), keywordSettings.ToString());
        }

        // 5. A wrong password: unit of work, health check (false + logged reason).
        string wrong = new NpgsqlConnectionStringBuilder(connectionString) { Password = _wrongPassword }.ConnectionString;
        await using (var db = new Pg(new PgSettings { ConnectionString = wrong }, "Development", loggerFactory))
        {
            await CaptureAsync(() => db.ExecuteAsync(static (_, _) => Task.CompletedTask));
            Assert.False(await db.CheckHealthAsync());
            See(db.ToString());
        }

        // 6. A closed port with retries (Retrying, RetriesExhausted), both password forms.
        foreach (string closed in new[]
        {
            $"Host=127.0.0.1;Port={closedPort};Database=x;Username=postgres;Password={server.Password}",
            $"postgres://postgres:{_wrongPassword}@127.0.0.1:{closedPort}/x",
        })
        {
            var settings = new PgSettings { ConnectionString = closed };
            settings.Retry.MaxAttempts = 2;
            settings.Retry.BaseDelayMilliseconds = 1;
            settings.Retry.MaxDelayMilliseconds = 2;
            await using var db = new Pg(settings, "Development", loggerFactory);
            await CaptureAsync(() => db.ExecuteAsync(static (_, _) => Task.CompletedTask));
            await CaptureAsync(async () => await db.OpenSessionAsync());
            Assert.False(await db.CheckHealthAsync());
        }

        // 7. Configuration errors: an unknown keyword, a bad pool value, a provider mismatch, through DI and directly.
        CaptureConstruction(() => new Pg(new PgSettings { ConnectionString = connectionString + ";Bogus Keyword=1" }, "Development", loggerFactory));
        CaptureConstruction(() => new Pg(new PgSettings { ConnectionString = url + "?sslmode=nonsense" }, "Development", loggerFactory));
        CaptureConstruction(() => new Pg(new PgSettings { ConnectionString = $"postgresql://postgres:{server.Password}@127.0.0.1:notaport/db" }, "Development", loggerFactory));
        var badPool = new PgSettings { ConnectionString = connectionString };
        badPool.Pool.Size = -1;
        CaptureConstruction(() => new Pg(badPool, "Development", loggerFactory));
        See(badPool.ToString());
        CaptureConstruction(() => new Pg(new PgSettings { ConnectionString = $"Data Source=x.db;Password={server.Password}" }, "Development", loggerFactory));
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pg"] = connectionString,
            ["Pg:Pool:Size"] = "not a number",
        }).Build();
        await using (ServiceProvider provider = new ServiceCollection().AddLogging(AddCapture).AddPg(configuration).BuildServiceProvider())
        {
            CaptureConstruction(() => provider.GetRequiredService<Pg>());
        }

        // 8. Health reports through HealthCheckService: healthy, wrong password, closed port.
        foreach (string target in new[] { connectionString, wrong, $"Host=127.0.0.1;Port={closedPort};Database=x;Username=postgres;Password={server.Password}" })
        {
            await using ServiceProvider provider = new ServiceCollection()
                .AddLogging(AddCapture)
                .AddPg(configure: s => s.ConnectionString = target)
                .AddHealthChecks().AddPgHealthCheck().Services
                .BuildServiceProvider();
            HealthReport report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            foreach (HealthReportEntry entry in report.Entries.Values)
            {
                See(entry.Description, entry.Exception?.ToString());
                See(entry.Data.Select(d => d.Key + "=" + d.Value).ToArray());
            }
        }

        // Everything a sink could write: formatted messages, exceptions with inner ones, structured values.
        IReadOnlyList<LogRecord> records = _logs.Records;
        See(records.Select(r => r.AllText).ToArray());
        foreach (Activity activity in activities.Activities)
        {
            See(activity.DisplayName, activity.StatusDescription);
            See(activity.TagObjects.Select(t => t.Key + "=" + t.Value).ToArray());
            See(activity.Events.SelectMany(e => e.Tags).Select(t => t.Key + "=" + t.Value).ToArray());
        }

        // The paths were really driven: startup, rollback, retry, health failure, retries exhausted.
        int[] eventIds = records.Where(r => r.Category.StartsWith("DbCore", StringComparison.Ordinal)).Select(r => r.EventId.Id).Distinct().ToArray();
        Assert.Superset(new HashSet<int> { 1, 2, 4, 5, 6, 9 }, eventIds.ToHashSet());
        Assert.Contains(records, r => r.Exception is not null);

        string all = _seen.ToString();
        Assert.True(all.Length > 10_000, "expected a substantial amount of captured text");
        Assert.DoesNotContain(server.Password, all, StringComparison.Ordinal);
        Assert.DoesNotContain(_wrongPassword, all, StringComparison.Ordinal);
    }

    private void AddCapture(ILoggingBuilder logging) => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs);

    private void See(params string?[] texts)
    {
        foreach (string? text in texts)
        {
            _seen.AppendLine(text);
        }
    }

    private void SeeException(Exception exception)
    {
        See(exception.ToString());
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            See(current.GetType().FullName, current.Message);
            See(current.Data.Keys.Cast<object>().Select(k => k + "=" + current.Data[k]).ToArray());
            if (current is DbCoreException dbCore)
            {
                See(dbCore.SqlState, dbCore.ConstraintName, dbCore.TableName);
            }

            if (current is AggregateException aggregate)
            {
                foreach (Exception inner in aggregate.InnerExceptions)
                {
                    SeeException(inner);
                }
            }
        }
    }

    private async Task CaptureAsync(Func<Task> action)
    {
        Exception exception = await Assert.ThrowsAnyAsync<Exception>(action);
        SeeException(exception);
    }

    private void CaptureConstruction(Func<object> action)
    {
        Exception exception = Assert.ThrowsAny<Exception>(() => { _ = action(); });
        Assert.True(exception is DatabaseConfigurationException or InvalidOperationException or ArgumentException, exception.ToString());
        SeeException(exception);
    }
}
