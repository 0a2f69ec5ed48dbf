using System.Diagnostics;
using System.IO;
using DbCore.Errors;
using DbCore.Internal;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>The retry policy against a real server: what is retried, how often, how it is logged, and cancellation.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RetryPolicyTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Serialization_failure_is_retried_to_success_and_logged()
    {
        string cs = await server.CreateDatabaseAsync("retry");
        await Resilient.AdminAsync(cs, "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counters VALUES (1, 0)");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs);
        int attempts = 0;

        int n = await db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", ct);
            await Resilient.ScalarAsync<int>(session, "SELECT n FROM counters WHERE id = 1", ct);
            if (attempts == 1)
            {
                await Resilient.AdminAsync(cs, "UPDATE counters SET n = n + 1 WHERE id = 1");
            }

            return await Resilient.ScalarAsync<int>(session, "UPDATE counters SET n = n + 10 WHERE id = 1 RETURNING n", ct);
        });

        Assert.Equal(2, attempts);
        Assert.Equal(11, n);
        LogRecord retry = Assert.Single(logs.Named("Retrying"));
        Assert.Equal(1, retry["Attempt"]);
        Assert.Equal(3, retry["MaxAttempts"]);
        Assert.Equal("40001", retry["SqlState"]);
        Assert.Equal(nameof(SerializationFailureException), retry["ErrorType"]);
        Assert.Contains("attempt 1 of 3", retry.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Deadlock_victim_is_retried_so_both_units_succeed()
    {
        string cs = await server.CreateDatabaseAsync("deadretry");
        await Resilient.AdminAsync(cs, "CREATE TABLE rows (id int PRIMARY KEY, n int NOT NULL); INSERT INTO rows VALUES (1, 0), (2, 0)");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs);
        int firstAttempts = 0;
        using var bothLocked = new Barrier(2);

        Task Cross(int first, int second) => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "SET LOCAL deadlock_timeout = '100ms'", ct);
            await Resilient.NonQueryAsync(session, $"UPDATE rows SET n = n + 1 WHERE id = {first}", ct);
            if (Interlocked.Increment(ref firstAttempts) <= 2)
            {
                await Task.Run(() => bothLocked.SignalAndWait(TimeSpan.FromSeconds(10)), ct);
            }

            await Resilient.NonQueryAsync(session, $"UPDATE rows SET n = n + 1 WHERE id = {second}", ct);
        });

        await Task.WhenAll(Cross(1, 2), Cross(2, 1));

        Assert.Equal(4L, await Resilient.AdminAsync(cs, "SELECT sum(n)::bigint FROM rows"));
        Assert.Equal("40P01", Assert.Single(logs.Named("Retrying"))["SqlState"]);
    }

    [PostgresFact]
    public async Task MaxAttempts_is_respected_and_exhaustion_is_logged()
    {
        string cs = await server.CreateDatabaseAsync("maxatt");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.Retry.MaxAttempts = 4);
        int attempts = 0;

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())", ct);
        }));

        Assert.Equal(4, attempts);
        Assert.Equal("57P01", ex.SqlState);
        Assert.Equal([1, 2, 3], logs.Named("Retrying").Select(r => (int)r["Attempt"]!));
        Assert.All(logs.Named("Retrying"), r => Assert.Equal("57P01", r["SqlState"]));
        Assert.Equal(4, Assert.Single(logs.Named("RetriesExhausted"))["Attempts"]);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Outside_production_nothing_is_retried_by_default()
    {
        string cs = await server.CreateDatabaseAsync("devretry");
        await using Pg db = Resilient.Pg(cs, environment: "Development");
        int attempts = 0;

        await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())", ct);
        }));

        Assert.Equal(1, db.Options.Retry.MaxAttempts);
        Assert.Equal(1, attempts);
    }

    [PostgresFact]
    public async Task Cancellation_during_backoff_stops_retrying()
    {
        string cs = await server.CreateDatabaseAsync("cancelbackoff");
        await using Pg db = Resilient.Pg(cs, configure: s =>
        {
            s.Retry.MaxAttempts = 5;
            s.Retry.BaseDelayMilliseconds = 20_000;
            s.Retry.MaxDelayMilliseconds = 20_000;
        });
        int attempts = 0;
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            cts.CancelAfter(TimeSpan.FromMilliseconds(200));
            await Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())", ct);
        }, cts.Token));

        Assert.Equal(1, attempts);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public void Backoff_grows_exponentially_with_jitter_up_to_the_maximum()
    {
        var retry = new RetryOptions(10, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(2000));
        double[] ceilings = [50, 100, 200, 400, 800, 1600, 2000, 2000];
        var seen = new HashSet<double>();
        for (int attempt = 1; attempt <= ceilings.Length; attempt++)
        {
            for (int i = 0; i < 200; i++)
            {
                double ms = Backoff.Delay(retry, attempt).TotalMilliseconds;
                Assert.InRange(ms, ceilings[attempt - 1] / 2, ceilings[attempt - 1]);
                seen.Add(ms);
            }
        }

        Assert.True(seen.Count > 100, "no jitter");
    }

    public static TheoryData<string, Exception, int, Type?, bool> PhaseCases => new()
    {
        { "pool timeout at acquire", new NpgsqlException("The connection pool has been exhausted", new TimeoutException()), (int)ErrorPhase.Acquire, typeof(PoolExhaustedException), false },
        { "timeout while executing", new NpgsqlException("Exception while reading from stream", new TimeoutException()), (int)ErrorPhase.Execute, typeof(CommandTimeoutException), false },
        { "timeout during commit", new NpgsqlException("Exception while reading from stream", new TimeoutException()), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "refused at acquire", new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111)), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), true },
        { "broken while executing", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), true },
        { "broken during commit", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "raw I/O during commit", new IOException("reset"), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "admin shutdown while executing", new PostgresException("terminating", "FATAL", "FATAL", "57P01"), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), true },
        { "admin shutdown during commit", new PostgresException("terminating", "FATAL", "FATAL", "57P01"), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "crash shutdown", new PostgresException("crash", "FATAL", "FATAL", "57P02"), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), true },
        { "cannot connect now", new PostgresException("starting up", "FATAL", "FATAL", "57P03"), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), true },
        { "database dropped", new PostgresException("dropped", "FATAL", "FATAL", "57P04"), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), false },
        { "unknown database", new PostgresException("no such database", "FATAL", "FATAL", "3D000"), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), false },
        { "idle session timeout", new PostgresException("idle", "FATAL", "FATAL", "57P05"), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), true },
        { "idle in transaction timeout", new PostgresException("idle in tx", "FATAL", "FATAL", "25P03"), (int)ErrorPhase.Execute, typeof(ConnectionFailureException), true },
        { "idle in transaction timeout before COMMIT arrived", new PostgresException("idle in tx", "FATAL", "FATAL", "25P03"), (int)ErrorPhase.Commit, typeof(ConnectionFailureException), true },
        { "too many connections at acquire", new PostgresException("too many", "FATAL", "FATAL", "53300"), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), true },
        { "statement in an aborted transaction", new PostgresException("aborted", "ERROR", "ERROR", "25P02"), (int)ErrorPhase.Execute, typeof(TransactionAbortedException), false },
        { "multi-host: no host in the wanted role", new NpgsqlException("No suitable host was found."), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), true },
        { "multi-host: every host refused", new NpgsqlException("Unable to connect to a suitable host.", new AggregateException(new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111)), new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111)))), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), true },
        { "multi-host: one host refused the password", new NpgsqlException("Unable to connect to a suitable host.", new AggregateException(new NpgsqlException("Failed to connect", new System.Net.Sockets.SocketException(111)), new PostgresException("auth", "FATAL", "FATAL", "28P01"))), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), false },
        { "untrusted certificate", new NpgsqlException("TLS failed", new System.Security.Authentication.AuthenticationException("untrusted root")), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), false },
        { "serialization failure at commit", new PostgresException("conflict", "ERROR", "ERROR", "40001"), (int)ErrorPhase.Commit, typeof(SerializationFailureException), true },
        { "deferred unique at commit", new PostgresException("dup", "ERROR", "ERROR", "23505"), (int)ErrorPhase.Commit, typeof(UniqueViolationException), false },
        { "connection exception class 08 at commit", new PostgresException("gone", "FATAL", "FATAL", "08006"), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "wrong password", new PostgresException("auth", "FATAL", "FATAL", "28P01"), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), false },
        { "provider error inside a wrapper (EF Core, a repository)", new InvalidOperationException("wrapped", new PostgresException("conflict", "ERROR", "ERROR", "40001")), (int)ErrorPhase.Execute, typeof(SerializationFailureException), true },
        { "not a provider error", new InvalidOperationException("mine"), (int)ErrorPhase.Execute, null, false },
        { "client-side error without I/O (no password given)", new NpgsqlException("No password has been provided"), (int)ErrorPhase.Acquire, typeof(ConnectionFailureException), false },
        { "non-transient client error after COMMIT was written leaves the outcome unknown", new NpgsqlException("protocol error"), (int)ErrorPhase.Commit, typeof(CommitOutcomeUnknownException), false },
        { "second command while a reader is open is a usage error", new NpgsqlOperationInProgressException(new NpgsqlCommand("SELECT 1")), (int)ErrorPhase.Execute, null, false },
    };

    [Theory]
    [MemberData(nameof(PhaseCases))]
    public void Transience_is_decided_by_phase_and_inner_exception(string description, Exception exception, int phase, Type? expected, bool transient)
    {
        DbCoreException? translated = ErrorTranslator.Translate(exception, (ErrorPhase)phase, "Db");

        if (expected is null)
        {
            Assert.Null(translated);
            return;
        }

        Assert.NotNull(translated);
        Assert.True(expected == translated.GetType(), $"{description}: {translated.GetType().Name}");
        Assert.Equal(transient, translated.IsTransient);
        Assert.Same(exception is InvalidOperationException { InnerException: { } provider } ? provider : exception, translated.InnerException);
    }
}
