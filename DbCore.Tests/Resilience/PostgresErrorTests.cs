using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>Each error category provoked for real on PostgreSQL: exact type, SQLSTATE, names, inner exception, no password.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresErrorTests(PostgresServer server)
{
    public static TheoryData<string, string, string, Type, string, string?, string?> ConstraintCases => new()
    {
        {
            "unique",
            "CREATE TABLE users (id int PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE); INSERT INTO users VALUES (1, 'a@x')",
            "INSERT INTO users VALUES (2, 'a@x')",
            typeof(UniqueViolationException), "23505", "users_email_key", "users"
        },
        {
            "foreign key",
            "CREATE TABLE parents (id int PRIMARY KEY); CREATE TABLE children (id int PRIMARY KEY, parent_id int CONSTRAINT children_parent_fk REFERENCES parents (id))",
            "INSERT INTO children VALUES (1, 42)",
            typeof(ForeignKeyViolationException), "23503", "children_parent_fk", "children"
        },
        {
            "not null",
            "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)",
            "INSERT INTO items (id) VALUES (1)",
            typeof(NotNullViolationException), "23502", null, "items"
        },
        {
            "check",
            "CREATE TABLE accounts (id int PRIMARY KEY, balance int CONSTRAINT balance_non_negative CHECK (balance >= 0))",
            "INSERT INTO accounts VALUES (1, -5)",
            typeof(CheckViolationException), "23514", "balance_non_negative", "accounts"
        },
        {
            "exclusion",
            "CREATE TABLE bookings (id int PRIMARY KEY, during int4range, CONSTRAINT bookings_no_overlap EXCLUDE USING gist (during WITH &&)); INSERT INTO bookings VALUES (1, '[1,5)')",
            "INSERT INTO bookings VALUES (2, '[3,8)')",
            typeof(ExclusionViolationException), "23P01", "bookings_no_overlap", "bookings"
        },
    };

    [PostgresTheory]
    [MemberData(nameof(ConstraintCases))]
    public async Task Constraint_violation_is_typed_and_never_retried(string category, string setup, string failing, Type expected, string sqlState, string? constraint, string? table)
    {
        string cs = await server.CreateDatabaseAsync("err");
        await Resilient.AdminAsync(cs, setup);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.Retry.MaxAttempts = 5);
        int attempts = 0;

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, failing, ct);
        }));

        Assert.IsType(expected, ex);
        Assert.Equal(sqlState, ex.SqlState);
        Assert.Equal(constraint, ex.ConstraintName);
        Assert.Equal(table, ex.TableName);
        Assert.False(ex.IsTransient, category);
        Assert.Equal(sqlState, Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.DoesNotContain(server.Password, ex.ToString());
        Assert.Equal(1, attempts);
        Assert.Empty(logs.Named("Retrying"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    /// <summary>
    /// PostgreSQL's own 08P01 (an ERROR, with the routine that raised it: here the Bind of a statement whose <c>$1</c> has no
    /// value) is the client's mistake on a connection that stays usable: another attempt repeats it. It was a transient
    /// connection failure, and the unit ran Retry:MaxAttempts times. PgBouncer's 08P01s (no routine) stay as they were.
    /// </summary>
    [PostgresFact]
    public async Task A_protocol_violation_the_server_raised_as_an_error_is_not_retried()
    {
        string cs = await server.CreateDatabaseAsync("protocol");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;
        var ex = await Assert.ThrowsAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.ScalarAsync<int>(session, "SELECT CAST($1 AS int)", ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal("08P01", ex.SqlState);
        Assert.False(ex.IsTransient);
        Assert.IsNotType<ConnectionFailureException>(ex);
        Assert.Equal(7, await db.ExecuteAsync((session, ct) => Resilient.ScalarAsync<int>(session, "SELECT 7", ct)));
    }

    /// <summary>
    /// With Npgsql's automatic preparation (<c>Max Auto Prepare</c>), a schema change that alters a prepared statement's
    /// result (a migration changing a column's type while the app runs) makes the next execution fail with 0A000 "cached
    /// plan must not change result type". PostgreSQL drops the plan with the error, so the same statement works when the
    /// unit runs again: transient, once. It was a plain error and every connection holding the plan failed one request.
    /// </summary>
    [PostgresFact]
    public async Task A_prepared_plan_a_schema_change_invalidated_is_transient_and_the_unit_runs_again()
    {
        string cs = await server.CreateDatabaseAsync("plan");
        await Resilient.AdminAsync(cs, "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL); INSERT INTO notes VALUES (1, 'a')");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs + ";Max Auto Prepare=4;Auto Prepare Min Usages=1", logs, s =>
        {
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
        });
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1, await db.ExecuteAsync((session, ct) => Resilient.ScalarAsync<int>(session, "SELECT * FROM notes", ct)));
        }

        await Resilient.AdminAsync(cs, "ALTER TABLE notes ALTER COLUMN id TYPE bigint");
        int runs = 0;
        long id = await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            return await Resilient.ScalarAsync<long>(session, "SELECT * FROM notes", ct);
        });

        Assert.Equal(1, id);
        Assert.Equal(2, runs);
        Assert.Equal("0A000", Assert.Single(logs.Named("Retrying"))["SqlState"]);

        // Other feature_not_supported errors stay plain errors: another attempt repeats them.
        int unsupported = 0;
        var ex = await Assert.ThrowsAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            unsupported++;
            await Resilient.NonQueryAsync(session, "CREATE TABLE checked (a int CHECK (a > (SELECT 1)))", ct);
        }));
        Assert.Equal(1, unsupported);
        Assert.Equal("0A000", ex.SqlState);
        Assert.False(ex.IsTransient);
    }

    [PostgresFact]
    public async Task Serialization_failure_under_serializable_is_typed_and_transient()
    {
        string cs = await server.CreateDatabaseAsync("serial");
        await Resilient.AdminAsync(cs, "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counters VALUES (1, 0)");
        await using Pg db = Resilient.Pg(cs, environment: "Development");

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", ct);
            await Resilient.ScalarAsync<int>(session, "SELECT n FROM counters WHERE id = 1", ct);
            await Resilient.AdminAsync(cs, "UPDATE counters SET n = n + 1 WHERE id = 1");
            await Resilient.NonQueryAsync(session, "UPDATE counters SET n = n + 10 WHERE id = 1", ct);
        }));

        Assert.Equal("40001", ex.SqlState);
        Assert.True(ex.IsTransient);
        Assert.Equal("40001", Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.DoesNotContain(server.Password, ex.ToString());
    }

    [PostgresFact]
    public async Task Deadlock_is_typed_and_transient()
    {
        string cs = await server.CreateDatabaseAsync("deadlock");
        await Resilient.AdminAsync(cs, "CREATE TABLE rows (id int PRIMARY KEY, n int NOT NULL); INSERT INTO rows VALUES (1, 0), (2, 0)");
        await using Pg db = Resilient.Pg(cs, environment: "Development");
        using var bothLocked = new Barrier(2);

        Task Cross(int first, int second) => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "SET LOCAL deadlock_timeout = '100ms'", ct);
            await Resilient.NonQueryAsync(session, $"UPDATE rows SET n = n + 1 WHERE id = {first}", ct);
            await Task.Run(() => bothLocked.SignalAndWait(TimeSpan.FromSeconds(10)), ct);
            await Resilient.NonQueryAsync(session, $"UPDATE rows SET n = n + 1 WHERE id = {second}", ct);
        });

        Task a = Cross(1, 2);
        Task b = Cross(2, 1);
        await Task.WhenAll(a, b).ContinueWith(static _ => { }, TaskScheduler.Default);

        Task[] failed = [.. new[] { a, b }.Where(t => t.IsFaulted)];
        var ex = Assert.IsType<DeadlockDetectedException>(Assert.Single(failed).Exception!.InnerException);
        Assert.Equal("40P01", ex.SqlState);
        Assert.True(ex.IsTransient);
        Assert.IsType<PostgresException>(ex.InnerException);
    }

    [PostgresFact]
    public async Task Lock_timeout_is_busy_and_transient_and_the_unit_runs_again_once_the_lock_is_free()
    {
        // lock_timeout (and NOWAIT) end the statement with 55P03 lock_not_available: another transaction held the lock, the
        // server aborted this one, nothing of it was applied. The same situation as SQLite's BUSY after its busy wait.
        string cs = await server.CreateDatabaseAsync("locktimeout");
        await Resilient.AdminAsync(cs, "CREATE TABLE rows (id int PRIMARY KEY, n int NOT NULL); INSERT INTO rows VALUES (1, 0)");
        await using var holder = new NpgsqlConnection(cs);
        await holder.OpenAsync();
        await using NpgsqlTransaction held = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT n FROM rows WHERE id = 1 FOR UPDATE", holder, held))
        {
            await lockRow.ExecuteScalarAsync();
        }

        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.Retry.MaxAttempts = 3);
        int attempts = 0;
        await db.ExecuteAsync(async (session, ct) =>
        {
            if (++attempts == 2)
            {
                await held.CommitAsync(ct); // the other transaction ends between the attempts
            }

            await Resilient.NonQueryAsync(session, "SET LOCAL lock_timeout = '100ms'", ct);
            await Resilient.NonQueryAsync(session, "UPDATE rows SET n = n + 1 WHERE id = 1", ct);
        });

        Assert.Equal(2, attempts);
        Assert.Equal(1, await Resilient.AdminAsync(cs, "SELECT n FROM rows WHERE id = 1"));
        Assert.Equal("55P03", Assert.Single(logs.Named("Retrying"))["SqlState"]);

        // With no attempt left the error is typed: the caller can tell "locked, try later" from a failure.
        await using NpgsqlTransaction heldAgain = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT n FROM rows WHERE id = 1 FOR UPDATE", holder, heldAgain))
        {
            await lockRow.ExecuteScalarAsync();
        }

        await using Pg once = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);
        var ex = await Assert.ThrowsAsync<DatabaseBusyException>(() => once.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "SET LOCAL lock_timeout = '100ms'", ct);
            await Resilient.NonQueryAsync(session, "UPDATE rows SET n = n + 1 WHERE id = 1", ct);
        }));
        Assert.Equal("55P03", ex.SqlState);
        Assert.True(ex.IsTransient);
        Assert.Equal("55P03", Assert.IsType<PostgresException>(ex.InnerException).SqlState);
        Assert.DoesNotContain(server.Password, ex.ToString());

        // NOWAIT is the work's own "do not wait": the same SQLSTATE, but not retried (a job queue skips the row instead).
        var noWaitLogs = new LogCollector();
        await using Pg retrying = Resilient.Pg(cs, noWaitLogs, s => s.Retry.MaxAttempts = 3);
        int noWaitAttempts = 0;
        var noWait = await Assert.ThrowsAnyAsync<DbCoreException>(() => retrying.ExecuteAsync(async (session, ct) =>
        {
            noWaitAttempts++;
            await Resilient.ScalarAsync<int>(session, "SELECT n FROM rows WHERE id = 1 FOR UPDATE NOWAIT", ct);
        }));
        Assert.IsNotType<DatabaseBusyException>(noWait);
        Assert.Equal("55P03", noWait.SqlState);
        Assert.False(noWait.IsTransient);
        Assert.Equal(1, noWaitAttempts);
        Assert.Empty(noWaitLogs.Named("Retrying"));
        Assert.Equal(0, once.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Command_timeout_is_typed_and_not_retried()
    {
        string cs = await server.CreateDatabaseAsync("timeout");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.CommandTimeoutSeconds = 1);
        int attempts = 0;
        var clock = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<CommandTimeoutException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SELECT pg_sleep(10)", ct);
        }));

        Assert.Equal(1, attempts);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.False(ex.IsTransient);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.Empty(logs.Named("Retrying"));
        Assert.DoesNotContain(server.Password, ex.ToString());
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Server_side_statement_timeout_is_a_command_timeout()
    {
        string cs = await server.CreateDatabaseAsync("stmt");
        await using Pg db = Resilient.Pg(cs);

        var ex = await Assert.ThrowsAsync<CommandTimeoutException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "SET LOCAL statement_timeout = '100ms'", ct);
            await Resilient.NonQueryAsync(session, "SELECT pg_sleep(5)", ct);
        }));

        Assert.Equal("57014", ex.SqlState);
        Assert.IsType<PostgresException>(ex.InnerException);
    }

    [PostgresFact]
    public async Task Killed_backend_is_a_transient_connection_failure()
    {
        string cs = await server.CreateDatabaseAsync("killed");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, environment: "Development");

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "CREATE TABLE written (id int)", ct); // the transaction has begun
            await Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())", ct);
        }));

        Assert.True(ex.IsTransient);
        Assert.Equal("57P01", ex.SqlState);
        Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(0, db.GetPoolStatistics().InUse);

        // The server ended the transaction with the backend: no ROLLBACK is sent on the dead connection, and no Warning with
        // a stack trace says it failed (review helper-44: every killed backend logged one, a failover hundreds).
        Assert.Empty(logs.Named("RollbackFailed"));

        // A scoped session the caller disposes after the same kill: the same.
        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "CREATE TABLE written_too (id int)");
            await Assert.ThrowsAnyAsync<Exception>(() => Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())"));
        }

        Assert.Empty(logs.Named("RollbackFailed"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Refused_connection_is_retried_and_then_typed_without_the_password()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var logs = new LogCollector();
        string cs = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Password={server.Password}";
        await using Pg db = Resilient.Pg(cs, logs);

        var ex = await Assert.ThrowsAsync<ConnectionFailureException>(async () => await db.OpenSessionAsync());

        Assert.True(ex.IsTransient);
        Assert.IsAssignableFrom<NpgsqlException>(ex.InnerException);
        Assert.DoesNotContain(server.Password, ex.ToString());
        Assert.Equal([1, 2], logs.Named("Retrying").Select(r => (int)r["Attempt"]!));
        Assert.All(logs.Records, r => Assert.DoesNotContain(server.Password, r.Message));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
