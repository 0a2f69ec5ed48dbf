using System.Net;
using System.Net.Sockets;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Npgsql;
using Polly;
using Polly.Retry;

namespace DbCore.Tests.Integrations;

/// <summary>
/// Polly 8 around DbCore units on a real PostgreSQL: what multiplies, what DbCore already says on the exception, and why
/// a retry predicate of <c>DbCoreException { IsTransient: true }</c> never runs an unknown commit or a committed nested
/// unit again (docs/integrations.md, "Polly").
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PollyInterplayTests(PostgresServer server)
{
    private const string SerializationFailure = "DO $$ BEGIN RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001'; END $$";

    /// <summary>The pipeline an application would write: retry what DbCore calls transient, 3 retries (4 attempts).</summary>
    private static ResiliencePipeline Pipeline(Action onRetry) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<DbCoreException>(ex => ex.IsTransient),
            MaxRetryAttempts = 3,
            Delay = TimeSpan.FromMilliseconds(1),
            BackoffType = DelayBackoffType.Constant,
            OnRetry = _ =>
            {
                onRetry();
                return default;
            },
        })
        .Build();

    [PostgresFact]
    public async Task Polly_around_a_retrying_unit_multiplies_the_runs_of_a_persistent_40001()
    {
        string cs = await server.CreateDatabaseAsync("polly_40001");
        await using Pg db = Resilient.Pg(cs); // Production: DbCore runs a unit up to 3 times

        (int runs, int pollyRetries, var ex) = await PersistentSerializationFailureUnderPollyAsync(db);

        Assert.Equal(3, pollyRetries);
        Assert.Equal(12, runs);      // Polly's 4 attempts x DbCore's 3
        Assert.Equal(3, ex.Attempts); // what DbCore already did, visible to any outer policy
    }

    [PostgresFact]
    public async Task Polly_around_a_unit_multiplies_connection_attempts_to_a_server_that_is_down()
    {
        using var logs = new LogCollector();
        await using Pg db = Resilient.Pg(new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = ClosedPort() }.ConnectionString, logs);
        int pollyRetries = 0;

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(async () =>
            await Pipeline(() => pollyRetries++).ExecuteAsync(async ct => await db.ExecuteAsync((_, _) => Task.CompletedTask, ct)));

        Assert.True(ex.IsTransient);
        Assert.Equal(3, ex.Attempts);
        Assert.Equal(3, pollyRetries);
        Assert.Equal(8, logs.Named("Retrying").Count); // 2 DbCore retries in each of 4 Polly attempts: 12 connects
    }

    [PostgresFact]
    public async Task With_DbCore_retry_off_Polly_owns_the_retry()
    {
        string cs = await server.CreateDatabaseAsync("polly_owns");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);

        (int runs, int pollyRetries, var ex) = await PersistentSerializationFailureUnderPollyAsync(db);

        Assert.Equal(3, pollyRetries);
        Assert.Equal(4, runs);
        Assert.Equal(1, ex.Attempts);
    }

    [PostgresFact]
    public async Task Polly_never_runs_a_unit_again_whose_commit_outcome_is_unknown()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "polly_unknown");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 1);
        int runs = 0, pollyRetries = 0;

        proxy.DropNextCommitAnswer();
        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () =>
            await Pipeline(() => pollyRetries++).ExecuteAsync(async ct => await db.ExecuteAsync(async (session, innerCt) =>
            {
                runs++;
                await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", innerCt);
            }, ct)));

        Assert.False(ex.IsTransient);
        Assert.Equal(1, runs);
        Assert.Equal(0, pollyRetries);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(cs)); // it had committed: a retry would have failed or doubled it
    }

    [PostgresFact]
    public async Task Polly_never_runs_an_outer_unit_again_once_a_nested_unit_committed()
    {
        string cs = await server.CreateDatabaseAsync("polly_nested");
        await Resilient.AdminAsync(cs, "CREATE TABLE audit (id serial PRIMARY KEY)");
        await using Pg outer = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);
        await using Pg audit = Resilient.Pg(cs);
        int runs = 0, pollyRetries = 0;

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(async () =>
            await Pipeline(() => pollyRetries++).ExecuteAsync(async ct => await outer.ExecuteAsync(async (session, innerCt) =>
            {
                runs++;
                await audit.ExecuteAsync((a, auditCt) => Resilient.NonQueryAsync(a, "INSERT INTO audit DEFAULT VALUES", auditCt), innerCt);
                await Resilient.NonQueryAsync(session, SerializationFailure, innerCt); // running the unit again would audit twice
            }, ct)));

        Assert.False(ex.IsTransient); // a 40001, but the unit is no longer safe to run again
        Assert.Equal(1, runs);
        Assert.Equal(0, pollyRetries);
        Assert.Equal(1L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM audit"));
    }

    /// <summary>Runs a unit that always fails with 40001 inside <see cref="Pipeline"/>: how often it ran, Polly retried, and what surfaced.</summary>
    private static async Task<(int Runs, int PollyRetries, SerializationFailureException Error)> PersistentSerializationFailureUnderPollyAsync(Pg db)
    {
        int runs = 0, pollyRetries = 0;
        var ex = await Assert.ThrowsAsync<SerializationFailureException>(async () =>
            await Pipeline(() => pollyRetries++).ExecuteAsync(async ct => await db.ExecuteAsync(async (session, innerCt) =>
            {
                runs++;
                await Resilient.NonQueryAsync(session, SerializationFailure, innerCt);
            }, ct)));
        return (runs, pollyRetries, ex);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
