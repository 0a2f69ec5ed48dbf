using System.Diagnostics;
using Dapper;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Queries;
using Microsoft.Data.Sqlite;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DbCore.Tests.Integrations;

/// <summary>
/// The snippets of docs/integrations.md, run: Dapper on the session's connection and transaction (both providers), and the
/// OpenTelemetry SDK collecting DbCore's and Npgsql's metrics and spans.
/// </summary>
public abstract class NeighbourTests
{
    protected abstract Task<QueryAny> CreateAsync();

    [Fact]
    public async Task Dapper_runs_in_the_sessions_transaction()
    {
        await using QueryAny db = await CreateAsync();

        // docs/integrations.md, "Dapper": the session's connection and transaction, inside a unit of work.
        await db.ExecuteAsync(async (session, ct) =>
        {
            await session.Connection.ExecuteAsync(
                new CommandDefinition("INSERT INTO todos (title, done) VALUES (@Title, @Done)", new { Title = "dapper", Done = false }, session.Transaction, cancellationToken: ct));
            Todo typed = await session.InsertAsync("typed", true, Priority.Low, null, ct); // a typed query in the same transaction
            Assert.Equal("typed", typed.Title);
        });

        // A unit that fails rolls back what Dapper wrote, like everything else in it.
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await session.Connection.ExecuteAsync(new CommandDefinition("INSERT INTO todos (title, done) VALUES ('lost', false)", transaction: session.Transaction, cancellationToken: ct));
            throw new InvalidOperationException("business rule");
        }));

        IEnumerable<string> titles = await db.ExecuteReadOnlyAsync((session, ct) =>
            session.Connection.QueryAsync<string>(new CommandDefinition("SELECT title FROM todos ORDER BY id", transaction: session.Transaction, cancellationToken: ct)));
        Assert.Equal(new[] { "dapper", "typed" }, titles);
    }

    protected static Task<QueryAny> WithTodosAsync(QueryAny db, string schema) => TodoSchema.CreateAsync(db, schema);
}

public sealed class SqliteNeighbourTests : NeighbourTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-neighbours-").FullName;

    protected override Task<QueryAny> CreateAsync() => WithTodosAsync(
        new QueryAny(new QueryAnySettings { ConnectionString = $"Data Source={Path.Combine(_directory, "n.db")}" }, "Production"),
        TodoSchema.Sqlite);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresNeighbourTests(PostgresServer server) : NeighbourTests
{
    private const string Schema = TodoSchema.PostgreSql;

    protected override async Task<QueryAny> CreateAsync()
    {
        server.EnsureAvailable();
        return await WithTodosAsync(new QueryAny(new QueryAnySettings { ConnectionString = await server.CreateDatabaseAsync("neighbours") }, "Production"), Schema);
    }

    [PostgresFact]
    public async Task The_OpenTelemetry_SDK_collects_DbCore_and_Npgsql_metrics_and_spans()
    {
        var metrics = new List<Metric>();
        var spans = new List<Activity>();

        // docs/integrations.md, "OpenTelemetry": the same meters and sources as AddOpenTelemetry().WithMetrics/WithTracing.
        MeterProvider meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddMeter("DbCore")
            .AddMeter("Npgsql")
            .AddInMemoryExporter(metrics)
            .Build();
        TracerProvider tracerProvider = Sdk.CreateTracerProviderBuilder()
            .AddSource("DbCore")
            .AddSource("Npgsql")
            .AddInMemoryExporter(spans)
            .Build();

        await using QueryAny db = await CreateAsync();
        string database = new Npgsql.NpgsqlConnectionStringBuilder(db.Options.DisplayConnectionString).Database!;
        await db.ExecuteAsync((session, ct) => session.InsertAsync("traced", false, Priority.Low, null, ct));

        // Other tests run in parallel and their spans reach these global listeners too: stop exporting, then look only at
        // this test's database.
        meterProvider.Dispose();
        tracerProvider.Dispose();
        Activity[] ours = spans.ToArray();
        var names = metrics.ToArray().Select(m => m.Name).ToHashSet();
        Assert.Contains("dbcore.session.duration", names);
        Assert.Contains(names, n => n.StartsWith("db.client.", StringComparison.Ordinal)); // Npgsql's own
        Activity unit = ours.Last(s => s.Source.Name == "DbCore" && Equals(s.GetTagItem("db.namespace"), database)); // the insert's unit
        Assert.Contains(ours, s => s.Source.Name == "Npgsql" && s.ParentSpanId == unit.SpanId);
    }
}
