using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;
using Xunit.Abstractions;

namespace DbCore.Tests.Resilience;

/// <summary>
/// Connection failure means the same whatever ended the connection: a timeout the server enforces, a full server, every
/// host of a multi-host string down. Transient, typed and retried; a killed backend costs one connection, not the pool.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ConnectionLossTests(PostgresServer server, ITestOutputHelper output)
{
    private static string DatabaseOf(string cs) => new NpgsqlConnectionStringBuilder(cs).Database!;

    private static Task<object?> SelectOneAsync(PgSession session, CancellationToken ct) => Resilient.ScalarAsync<object?>(session, "SELECT 1", ct);

    [PostgresFact]
    public async Task Idle_session_timeout_is_a_transient_connection_failure_and_the_next_attempt_succeeds()
    {
        string cs = await server.CreateDatabaseAsync("idlesession");
        await Resilient.AdminAsync(cs, $"ALTER DATABASE \"{DatabaseOf(cs)}\" SET idle_session_timeout = '500ms'");
        await using Pg once = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);
        await using Pg retried = Resilient.Pg(cs);
        await once.ExecuteAsync(SelectOneAsync);
        await retried.ExecuteAsync(SelectOneAsync);
        // Both pooled connections (and any the pool warmed up) are closed by the server after 500 ms idle (FATAL 57P05):
        // wait until the server has none of this database's backends left but the checking one, not a fixed time (under a
        // loaded machine a warm-up connection could open late and still be alive after a fixed wait).
        await Task.Delay(600);
        var waited = Stopwatch.StartNew();
        while ((long)(await Resilient.AdminAsync(cs, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))! > 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the server did not end the idle sessions");
            await Task.Delay(100);
        }

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => once.ExecuteAsync(SelectOneAsync));
        int runs = 0;
        await retried.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await SelectOneAsync(session, ct);
        });

        Assert.True(ex.IsTransient);
        Assert.True(ex.SqlState is "57P05" or null, ex.SqlState); // the FATAL, or the closed socket if it arrived first
        Assert.Equal(2, runs);
    }

    [PostgresFact]
    public async Task Idle_in_transaction_timeout_is_a_transient_connection_failure()
    {
        string cs = await server.CreateDatabaseAsync("idletx");
        await Resilient.AdminAsync(cs, $"ALTER DATABASE \"{DatabaseOf(cs)}\" SET idle_in_transaction_session_timeout = '300ms'");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            _ = session.Transaction; // a unit that only reads never sits idle in a transaction (the read path); this one has begun
            await SelectOneAsync(session, ct);
            if (runs == 1)
            {
                await Task.Delay(1200, ct); // the server ends the connection: FATAL 25P03
            }

            await SelectOneAsync(session, ct);
        });
        await using Pg once = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);
        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => once.ExecuteAsync(async (session, ct) =>
        {
            _ = session.Transaction;
            await SelectOneAsync(session, ct);
            await Task.Delay(1200, ct);
            await SelectOneAsync(session, ct);
        }));

        Assert.Equal(2, runs);
        Assert.True(ex.IsTransient);
        Assert.True(ex.SqlState is "25P03" or null, ex.SqlState);
    }

    [PostgresFact]
    public async Task Too_many_connections_at_acquire_is_transient_and_retried_until_a_slot_frees()
    {
        string cs = await server.CreateDatabaseAsync("connlimit");
        string role = "limited_" + Guid.NewGuid().ToString("N")[..8];
        string password = Guid.NewGuid().ToString("N");
        await Resilient.AdminAsync(cs, $"CREATE ROLE {role} LOGIN PASSWORD '{password}' CONNECTION LIMIT 1; GRANT ALL ON DATABASE \"{DatabaseOf(cs)}\" TO {role}");
        string limited = new NpgsqlConnectionStringBuilder(cs) { Username = role, Password = password, Pooling = false }.ConnectionString;
        var holder = new NpgsqlConnection(limited);
        await holder.OpenAsync(); // the one slot of the role
        await using Pg once = Resilient.Pg(limited, configure: s => s.Retry.MaxAttempts = 1);
        await using Pg retried = Resilient.Pg(limited, configure: s =>
        {
            s.Retry.MaxAttempts = 10;
            s.Retry.BaseDelayMilliseconds = 100;
            s.Retry.MaxDelayMilliseconds = 200;
        });

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => once.ExecuteAsync(SelectOneAsync));
        Task release = Task.Delay(400).ContinueWith(_ => holder.Dispose(), TaskScheduler.Default);
        await retried.ExecuteAsync(SelectOneAsync);
        await release;

        Assert.True(ex.IsTransient);
        Assert.Equal("53300", ex.SqlState);
        Assert.DoesNotContain(password, ex.ToString());
    }

    /// <summary>
    /// One broken connection costs one reconnect: the unit is retried once and the nine other pooled connections are the
    /// same backends afterwards. (Npgsql clears its whole pool when one connector breaks with 57P01 or an I/O error;
    /// DbCore's sessions draw from single-connection Npgsql pools, so that clear reaches one connection.)
    /// </summary>
    [PostgresTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_killed_backend_costs_one_reconnect_and_the_other_pooled_connections_survive(bool multiHost)
    {
        string cs = await server.CreateDatabaseAsync(multiHost ? "onekillmulti" : "onekill");
        if (multiHost)
        {
            // Host=a,b (the same server twice): the multi-host path, whose per-host pool Npgsql clears the same way.
            cs = new NpgsqlConnectionStringBuilder(cs) { Host = $"127.0.0.1:{server.Port},127.0.0.1:{server.Port}" }.ConnectionString;
        }

        var logs = new LogCollector();
        await using Pg db = await WarmedPoolOfTenAsync(cs, logs);
        HashSet<int> before = await BackendsAsync(cs);
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            int pid = await Resilient.ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct);
            if (runs == 1)
            {
                await Resilient.AdminAsync(cs, $"SELECT pg_terminate_backend({pid})");
            }

            await SelectOneAsync(session, ct);
        });

        // The other nine are suspect now: each is checked (SELECT 1) when a session next takes it, found alive and kept.
        int failures = await EightSessionsAtOnceAsync(db);
        await Task.Delay(200); // a closed connection leaves pg_stat_activity asynchronously
        HashSet<int> after = await BackendsAsync(cs);

        output.WriteLine($"pooled connections before: {before.Count}; survived the kill: {before.Intersect(after).Count()}; new: {after.Except(before).Count()}");
        Assert.Equal(2, runs);
        Assert.Equal(0, failures);
        Assert.Empty(logs.Named("PoolCleared"));
        Assert.Single(logs.Named("Retrying"));
        Assert.Equal(10, before.Count);
        Assert.Equal(9, before.Intersect(after).Count());
        Assert.Single(after.Except(before));
    }

    /// <summary>
    /// Evidence that the server itself went away: after one broken connection the others are suspect, and the first one
    /// checked (SELECT 1 before a session gets it) is dead too. Every idle connection is then closed at once, and that
    /// session connects afresh, so only the first session ever sees a dead connection.
    /// </summary>
    [PostgresFact]
    public async Task A_suspect_connection_found_dead_by_its_check_clears_the_idle_pool_so_later_sessions_do_not_fail()
    {
        string cs = await server.CreateDatabaseAsync("allkilled");
        var logs = new LogCollector();
        await using Pg db = await WarmedPoolOfTenAsync(cs, logs);
        await KillAllBackendsAsync(cs); // as a restart does

        // The first session meets a dead connection: it fails (a plain session is not retried), and the others are suspect.
        await using (PgSession first = await db.OpenSessionAsync())
        {
            await Assert.ThrowsAnyAsync<Exception>(() => SelectOneAsync(first, default)); // 57P01 on a raw command
        }

        // Eight at once: the first suspect checked is dead too, so the pool is cleared and every session connects afresh.
        int failures = await EightSessionsAtOnceAsync(db);

        Assert.Equal(0, failures);
        Assert.Single(logs.Named("PoolCleared"));
    }

    /// <summary>
    /// A restart under light load: the first unit meets a dead connection and is retried on a fresh one, and later units
    /// reuse that one, so nothing else would find the other nine dead connections until a peak. The check does.
    /// </summary>
    [PostgresFact]
    public async Task After_a_restart_at_low_concurrency_the_next_peak_meets_no_dead_connection()
    {
        string cs = await server.CreateDatabaseAsync("quietrestart");
        var logs = new LogCollector();
        await using Pg db = await WarmedPoolOfTenAsync(cs, logs);
        await KillAllBackendsAsync(cs);

        for (int i = 0; i < 5; i++)
        {
            await db.ExecuteAsync(SelectOneAsync); // the first is retried once, the others run on its fresh connection
        }

        int failures = await EightSessionsAtOnceAsync(db);

        Assert.Equal(0, failures);
        Assert.Single(logs.Named("Retrying"));
        Assert.Single(logs.Named("PoolCleared"));
    }

    private static Task KillAllBackendsAsync(string cs)
        => Resilient.AdminAsync(cs, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

    /// <summary>Eight sessions open at once (eight different pooled connections), each runs SELECT 1; how many failed.</summary>
    private static async Task<int> EightSessionsAtOnceAsync(Pg db)
    {
        PgSession[] sessions = new PgSession[8];
        int failures = 0;
        try
        {
            for (int i = 0; i < sessions.Length; i++)
            {
                sessions[i] = await db.OpenSessionAsync();
            }

            foreach (PgSession session in sessions)
            {
                try
                {
                    await SelectOneAsync(session, default);
                }
                catch (Exception)
                {
                    failures++;
                }
            }
        }
        finally
        {
            foreach (PgSession? session in sessions)
            {
                if (session is not null)
                {
                    await session.DisposeAsync();
                }
            }
        }

        return failures;
    }

    /// <summary>An accessor whose pool is exactly 10 connections, all opened.</summary>
    private static async Task<Pg> WarmedPoolOfTenAsync(string cs, LogCollector logs)
    {
        Pg db = Resilient.Pg(cs, logs, s =>
        {
            s.Pool.Size = 10;
            s.Pool.MaxOverflow = 0;
        });
        Assert.Equal(10, await db.WarmUpAsync());
        return db;
    }

    private static async Task<HashSet<int>> BackendsAsync(string cs)
    {
        var builder = new NpgsqlConnectionStringBuilder(cs) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new HashSet<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }

    [PostgresFact]
    public async Task Every_host_of_a_multi_host_string_down_is_a_transient_connection_failure()
    {
        int closedA = FreePort(), closedB = FreePort();
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Host = $"127.0.0.1:{closedA},127.0.0.1:{closedB}", Timeout = 2 };
        await using Pg db = Resilient.Pg(builder.ConnectionString, configure: s => s.Retry.MaxAttempts = 2);

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(SelectOneAsync));

        Assert.True(ex.IsTransient);
        Assert.Equal(2, ex.Attempts);
        Assert.DoesNotContain(server.Password, ex.ToString());
    }

    [PostgresFact]
    public async Task Wrong_password_on_every_host_is_a_connection_failure_that_is_not_retried()
    {
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Host = $"127.0.0.1:{server.Port},127.0.0.1:{server.Port}", Password = "wrong-" + server.Password };
        await using Pg db = Resilient.Pg(builder.ConnectionString, configure: s => s.Retry.MaxAttempts = 5);

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(SelectOneAsync));

        Assert.False(ex.IsTransient);
        Assert.Equal(1, ex.Attempts);
        Assert.StartsWith("28", ex.SqlState);
        Assert.DoesNotContain(server.Password, ex.ToString());
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
