using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Tests.Observability;

/// <summary>The spans of ActivitySource "DbCore" and how Npgsql's spans nest under them.</summary>
[Collection(PostgresCollection.Name)]
public sealed class TracingTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Execute_span_is_the_parent_of_npgsql_command_spans()
    {
        using var activities = new ActivityCapture("DbCore", "Npgsql");
        string connectionString = await server.CreateDatabaseAsync("tracing");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var db = new Pg(new PgSettings { ConnectionString = connectionString }, "Development");

        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using NpgsqlCommand first = session.CreateCommand("SELECT 1");
            await first.ExecuteScalarAsync(ct);
            await using NpgsqlCommand second = session.CreateCommand("SELECT 2");
            await second.ExecuteScalarAsync(ct);
        });

        Activity span = Assert.Single(activities.DbCoreSpans(database));
        Assert.Equal("DbCore.Execute", span.OperationName);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Equal("postgresql", span.GetTagItem("db.system"));
        Assert.Equal("Pg", span.GetTagItem("db.client.connection.pool.name"));

        List<Activity> children = activities.Activities
            .Where(a => a.Source.Name == "Npgsql" && a.ParentSpanId == span.SpanId)
            .ToList();
        Assert.True(children.Count >= 2, $"expected the two command spans under DbCore.Execute, found {children.Count}");
        Assert.All(children, child =>
        {
            Assert.Same(span, child.Parent);
            Assert.Equal(span.TraceId, child.TraceId);
        });
    }

    [PostgresFact]
    public async Task Retries_are_events_on_the_one_span_of_the_unit_of_work()
    {
        using var activities = new ActivityCapture("DbCore");
        string database = "closed_" + Guid.NewGuid().ToString("N");
        var settings = new PgSettings { ConnectionString = $"Host=127.0.0.1;Port={Endpoints.ClosedPort()};Database={database};Username=postgres;Password={server.Password}" };
        settings.Retry.MaxAttempts = 3;
        settings.Retry.BaseDelayMilliseconds = 1;
        settings.Retry.MaxDelayMilliseconds = 5;
        await using var db = new Pg(settings, "Development");

        await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(static (_, _) => Task.CompletedTask));

        Activity span = Assert.Single(activities.DbCoreSpans(database));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        ActivityEvent[] retries = span.Events.Where(e => e.Name == "dbcore.retry").ToArray();
        Assert.Equal(2, retries.Length);
        Assert.Equal([1, 2], retries.Select(e => e.Tags.First(t => t.Key == "dbcore.attempt").Value));
        Assert.All(retries, e => Assert.Equal(nameof(ConnectionFailureException), e.Tags.First(t => t.Key == "error.type").Value));
    }

    [Fact]
    public async Task Each_unit_of_work_is_one_span_and_a_failure_marks_it_as_error()
    {
        using var activities = new ActivityCapture("DbCore");
        string directory = Path.Combine(Path.GetTempPath(), "dbcore-tracing-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string file = Path.Combine(directory, "tracing.db");
        await using var db = new Local(new LocalSettings { ConnectionString = "Data Source=" + file }, "Development");

        for (int i = 0; i < 2; i++)
        {
            await db.ExecuteAsync(static async (session, ct) =>
            {
                await using SqliteCommand command = session.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(ct);
            });
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(static (_, _) => throw new InvalidOperationException("boom")));

        IReadOnlyList<Activity> spans = activities.DbCoreSpans(file);
        Assert.Equal(3, spans.Count);
        Assert.Equal(3, spans.Select(s => s.SpanId).Distinct().Count());
        Assert.Equal([ActivityStatusCode.Unset, ActivityStatusCode.Unset, ActivityStatusCode.Error], spans.Select(s => s.Status));
        Assert.Equal("sqlite", spans[0].GetTagItem("db.system.name"));
        Assert.Empty(spans[0].Events);
    }
}
