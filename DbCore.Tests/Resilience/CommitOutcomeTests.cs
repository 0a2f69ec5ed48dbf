using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>A connection that breaks during COMMIT: unknown outcome, never retried blindly; the verified mode resolves it.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitOutcomeTests(PostgresServer server)
{
    /// <summary>
    /// A deferred constraint trigger runs at COMMIT; for rows with slow = true it sleeps, so the COMMIT is reliably in
    /// flight when a second connection terminates the backend.
    /// </summary>
    private const string SlowCommitSchema = """
        CREATE TABLE orders (id int PRIMARY KEY, slow bool NOT NULL);
        CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.slow THEN PERFORM pg_sleep(20); END IF;
            RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER orders_slow_commit AFTER INSERT ON orders DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION slow_commit();
        """;

    /// <summary>Terminates backend <paramref name="pid"/> once it is running COMMIT.</summary>
    private static async Task KillDuringCommitAsync(string cs, Task<int> pid)
    {
        int backend = await pid;
        bool killed = await Resilient.EventuallyAsync(
            async () => (bool)(await Resilient.AdminAsync(cs, $"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = {backend} AND state = 'active' AND query = 'COMMIT' AND wait_event = 'PgSleep')"))!,
            TimeSpan.FromSeconds(10));
        Assert.True(killed, "the COMMIT never started");
        await Resilient.AdminAsync(cs, $"SELECT pg_terminate_backend({backend})");
    }

    private static Task<long> CountAsync(string cs) => Resilient.AdminAsync(cs, "SELECT count(*) FROM orders").ContinueWith(t => (long)t.Result!, TaskScheduler.Default);

    [PostgresFact]
    public async Task Broken_commit_throws_CommitOutcomeUnknown_and_is_never_retried()
    {
        string cs = await server.CreateDatabaseAsync("commitkill");
        await Resilient.AdminAsync(cs, SlowCommitSchema);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.Retry.MaxAttempts = 5);
        var pid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int attempts = 0;

        Task killer = KillDuringCommitAsync(cs, pid.Task);
        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            pid.TrySetResult(await Resilient.ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct));
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1, true)", ct);
        }));
        await killer;

        Assert.Equal(1, attempts);
        Assert.False(ex.IsTransient);
        Assert.Equal("57P01", ex.SqlState);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.Empty(logs.Named("Retrying"));
        Assert.DoesNotContain(server.Password, ex.ToString());
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Verified_mode_retries_a_broken_commit_that_was_not_applied()
    {
        string cs = await server.CreateDatabaseAsync("commitverify");
        await Resilient.AdminAsync(cs, SlowCommitSchema);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs);
        var pid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        int attempts = 0;

        Task killer = KillDuringCommitAsync(cs, pid.Task);
        int result = await db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            attempts++;
            pid.TrySetResult(await Resilient.ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct));
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES (1, {(attempts == 1 ? "true" : "false")})", ct);
            return attempts;
        });
        await killer;

        Assert.Equal(2, result);
        Assert.Equal(1, await CountAsync(cs));
        Assert.Equal("aborted", Assert.Single(logs.Named("CommitVerified"))["Status"]);
        Assert.Single(logs.Named("Retrying"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Lost_commit_answer_is_unknown_although_the_transaction_committed()
    {
        string cs = await server.CreateDatabaseAsync("commitlost");
        await Resilient.AdminAsync(cs, "CREATE TABLE orders (id int PRIMARY KEY, slow bool NOT NULL)");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 5);
        int attempts = 0;

        proxy.DropNextCommitAnswer();
        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1, false)", ct);
        }));

        // This is why an unknown outcome is never retried: the row is there, a retry would have applied it twice.
        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(1, attempts);
        Assert.Equal(1, await CountAsync(cs));
    }

    [PostgresFact]
    public async Task Verified_mode_returns_success_when_the_lost_commit_was_applied()
    {
        string cs = await server.CreateDatabaseAsync("commitfound");
        await Resilient.AdminAsync(cs, "CREATE TABLE orders (id int PRIMARY KEY, slow bool NOT NULL)");
        await using var proxy = new DroppingProxy(server.Port);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), logs, s => s.Retry.MaxAttempts = 5);
        int attempts = 0;

        proxy.DropNextCommitAnswer();
        string result = await db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1, false)", ct);
            return "done";
        });

        Assert.Equal("done", result);
        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(1, attempts);
        Assert.Equal(1, await CountAsync(cs));
        Assert.Equal("committed", Assert.Single(logs.Named("CommitVerified"))["Status"]);
        Assert.Empty(logs.Named("Retrying"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    /// <summary>
    /// A read-only unit that needs one snapshot for several reads begins its transaction explicitly (docs/sessions.md), so
    /// DbCore sends COMMIT at its end. Its transaction is READ ONLY: PostgreSQL refuses every write in it (25006), so a lost
    /// answer to that COMMIT (a proxy or load balancer cut, a standby restarted) leaves nothing applied, and the unit is an
    /// ordinary connection failure of a read, run again. Before, it was a <see cref="CommitOutcomeUnknownException"/> ("may or
    /// may not have been applied"), logged at Error and not retried (this test failed so).
    /// </summary>
    [PostgresFact]
    public async Task A_read_only_unit_whose_COMMIT_answer_is_lost_is_a_connection_failure_and_runs_again()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "rocommit", "INSERT INTO orders VALUES (1), (2)");
        await using var proxy = new DroppingProxy(server.Port);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), logs, s => s.Retry.MaxAttempts = 3);
        int attempts = 0;

        proxy.DropNextCommitAnswer();
        long count = await db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", ct);
            long first = await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM orders", ct);
            long second = await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM orders WHERE id > 0", ct);
            Assert.Equal(first, second);
            return first;
        });

        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(2L, count);
        Assert.Equal(2, attempts);
        Assert.DoesNotContain(logs.Records, r => r.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.Single(logs.Named("Retrying"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    /// <summary>
    /// A READ ONLY transaction still lets <c>NOTIFY</c> through, delivered at COMMIT: a read-only unit that notified and lost its
    /// COMMIT's answer may have notified, so it stays an unknown outcome and is not run again (found by review helper-31: the
    /// listener got the notification twice).
    /// </summary>
    [PostgresFact]
    public async Task A_read_only_unit_that_notified_and_lost_its_COMMIT_answer_is_an_unknown_outcome_and_notifies_once()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "ronotify");
        await using var listener = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await listener.OpenAsync();
        int received = 0;
        listener.Notification += (_, _) => Interlocked.Increment(ref received);
        await using (var listen = new NpgsqlCommand("LISTEN dbcore_review", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 3);
        int attempts = 0;
        proxy.DropNextCommitAnswer();
        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "NOTIFY dbcore_review, 'payment 42 settled'", ct);
            return 0L;
        }));

        while (await listener.WaitAsync(TimeSpan.FromMilliseconds(700)))
        {
        }

        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(1, attempts);
        Assert.Equal(1, received);
    }

    private static string Proxied(string cs, DroppingProxy proxy) => Resilient.Proxied(cs, proxy);
}
