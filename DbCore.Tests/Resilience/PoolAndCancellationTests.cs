using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;

namespace DbCore.Tests.Resilience;

/// <summary>Pool exhaustion is typed, fast and not retried, and the pool recovers; cancellation leaks nothing.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PoolAndCancellationTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Pool_exhaustion_is_typed_with_size_and_wait_and_the_pool_recovers()
    {
        string cs = await server.CreateDatabaseAsync("pool");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s =>
        {
            s.Pool.Size = 0;
            s.Pool.MaxOverflow = 1;
            s.Pool.AcquireTimeoutSeconds = 1;
        });
        Assert.Equal(3, db.Options.Retry.MaxAttempts);

        PoolExhaustedException viaSession;
        PoolExhaustedException viaExecute;
        TimeSpan elapsed;
        await using (PgSession holder = await db.OpenSessionAsync())
        {
            await Resilient.ScalarAsync<int>(holder, "SELECT 1");
            var clock = Stopwatch.StartNew();
            viaSession = await Assert.ThrowsAsync<PoolExhaustedException>(async () => await db.OpenSessionAsync());
            elapsed = clock.Elapsed;
            viaExecute = await Assert.ThrowsAsync<PoolExhaustedException>(() => db.ExecuteAsync((session, ct) => Resilient.ScalarAsync<int>(session, "SELECT 1", ct)));
            Assert.Equal(1, db.GetPoolStatistics().InUse);
        }

        Assert.InRange(elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(2.5));
        foreach (PoolExhaustedException ex in new[] { viaSession, viaExecute })
        {
            Assert.False(ex.IsTransient);
            Assert.Contains("all 1 connections", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Pool:Size 0 + Pool:MaxOverflow 1", ex.Message, StringComparison.Ordinal);
            Assert.Contains("acquire timeout of 1 s", ex.Message, StringComparison.Ordinal);
            Assert.IsType<TimeoutException>(ex.InnerException); // DbCore's own pool timed out (no Npgsql exception: Npgsql never waited)
            Assert.DoesNotContain(server.Password, ex.ToString());
        }

        Assert.Empty(logs.Named("Retrying"));
        Assert.Equal(7, await db.ExecuteAsync((session, ct) => Resilient.ScalarAsync<int>(session, "SELECT 7", ct)));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.Equal(0, db.GetPoolStatistics().Waiting);
    }

    [PostgresFact]
    public async Task Cancelling_mid_query_rolls_back_and_returns_the_connection()
    {
        string cs = await server.CreateDatabaseAsync("cancel");
        await Resilient.AdminAsync(cs, "CREATE TABLE items (id int PRIMARY KEY)");
        await using Pg db = Resilient.Pg(cs);
        using var cts = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task work = db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct);
            started.SetResult();
            await Resilient.NonQueryAsync(session, "SELECT pg_sleep(20)", ct);
        }, cts.Token);
        await started.Task;
        await Task.Delay(200);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => work).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.True(await Resilient.EventuallyAsync(async () => await Resilient.BusyBackendsAsync(cs) == 0, TimeSpan.FromSeconds(5)), "a backend of ours is still active or idle in transaction");
        Assert.Equal(0L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM items"));
    }

    [PostgresFact]
    public async Task Cancelling_an_open_session_mid_query_and_disposing_it_leaks_nothing()
    {
        string cs = await server.CreateDatabaseAsync("cancelsession");
        await Resilient.AdminAsync(cs, "CREATE TABLE items (id int PRIMARY KEY)");
        await using Pg db = Resilient.Pg(cs);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO items VALUES (1)");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Resilient.NonQueryAsync(session, "SELECT pg_sleep(20)", cts.Token));
        }

        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.True(await Resilient.EventuallyAsync(async () => await Resilient.BusyBackendsAsync(cs) == 0, TimeSpan.FromSeconds(5)), "a backend of ours is still active or idle in transaction");
        Assert.Equal(0L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM items"));
    }

    /// <summary>
    /// Npgsql enlists a connection opened inside a TransactionScope and keeps it out of its pool until the scope ends.
    /// With DbCore's pool of single-connection data sources that would leave a "free" slot whose one connection is held:
    /// the next session on it would wait the whole acquire timeout. DbCore's sessions run their own transactions, so their
    /// connections do not enlist.
    /// </summary>
    [PostgresFact]
    public async Task A_session_inside_a_TransactionScope_gives_its_connection_back_at_dispose()
    {
        string cs = await server.CreateDatabaseAsync("ambient");
        await using Pg db = Resilient.Pg(cs, configure: s =>
        {
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
            s.Pool.AcquireTimeoutSeconds = 2;
        });

        using var scope = new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled);
        await using (PgSession inside = await db.OpenSessionAsync())
        {
            await Resilient.ScalarAsync<int>(inside, "SELECT 1");
        }

        using (new System.Transactions.TransactionScope(System.Transactions.TransactionScopeOption.Suppress, System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            Assert.Equal(7, await db.ExecuteAsync((session, ct) => Resilient.ScalarAsync<int>(session, "SELECT 7", ct)));
        }
    }
}
