using System.Data.Common;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;
using Xunit.Abstractions;

namespace DbCore.Tests.Resilience;

/// <summary>
/// A server of its own whose synchronous standby is missing (<c>synchronous_standby_names</c> names one that never connects,
/// as when the only synchronous standby is down or cut off): every COMMIT of the <c>syncrep</c> database waits for it.
/// <c>synchronous_standby_names</c> is server-wide, hence not the shared server.
/// </summary>
public sealed class MissingSynchronousStandby : IAsyncLifetime
{
    public PostgresServer Server { get; } = new();

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        if (!Server.IsAvailable)
        {
            return;
        }

        ConnectionString = await Server.CreateDatabaseAsync("syncrep");
        string database = new NpgsqlConnectionStringBuilder(ConnectionString).Database!;
        await Resilient.AdminAsync(ConnectionString, "CREATE TABLE orders (id int PRIMARY KEY)");
        // The test servers run with synchronous_commit off (speed); this database commits the way production does.
        await Resilient.AdminAsync(ConnectionString, $"ALTER DATABASE \"{database}\" SET synchronous_commit = on");
        await Resilient.AdminAsync(ConnectionString, "ALTER SYSTEM SET synchronous_standby_names = 'standby_that_is_down'");
        await Resilient.AdminAsync(ConnectionString, "SELECT pg_reload_conf()");
        if (!await Resilient.EventuallyAsync(async () => (string?)await Resilient.AdminAsync(ConnectionString, "SHOW synchronous_standby_names") == "standby_that_is_down", TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException("the server did not pick up synchronous_standby_names");
        }
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// A COMMIT that waits for a synchronous standby which does not answer, and whose wait is then cancelled (DbCore's command
/// timeout makes Npgsql send a cancel request; an operator runs <c>pg_cancel_backend</c>). PostgreSQL does not fail such a
/// COMMIT: the transaction is committed locally already, so it answers success with a WARNING ("canceling wait for
/// synchronous replication due to user request"), which Npgsql reports only to <see cref="NpgsqlConnection.Notice"/>. The
/// transaction is then on the primary and on no standby, and a failover loses it. Before, DbCore reported all of these as
/// plain successes (each test below failed so); now each is a <see cref="CommitOutcomeUnknownException"/>, not retried and
/// not "verified" into a success.
/// </summary>
public sealed class SynchronousReplicationTests(MissingSynchronousStandby standby, ITestOutputHelper output) : IClassFixture<MissingSynchronousStandby>
{
    private string ConnectionString
    {
        get
        {
            standby.Server.EnsureAvailable();
            return standby.ConnectionString;
        }
    }

    /// <summary>
    /// What DbCore's check relies on, shown on raw Npgsql: the COMMIT returns normally, and the server's warning comes as a
    /// notice raised by <c>SyncRepWaitForLSN</c> (the routine, not the localized text, is what DbCore matches).
    /// </summary>
    [PostgresFact]
    public async Task Raw_Npgsql_reports_the_cancelled_wait_only_as_a_notice_from_SyncRepWaitForLSN_and_the_row_is_committed_locally()
    {
        var notices = new List<PostgresNotice>();
        var raw = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, CommandTimeout = 2 };
        await using (var connection = new NpgsqlConnection(raw.ConnectionString))
        {
            connection.Notice += (_, e) => notices.Add(e.Notice);
            await connection.OpenAsync();
            await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand("INSERT INTO orders VALUES (1001)", connection, transaction))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync(); // returns normally
        }

        foreach (PostgresNotice notice in notices)
        {
            output.WriteLine($"{notice.InvariantSeverity} {notice.SqlState} {notice.Routine}: {notice.MessageText}");
        }

        PostgresNotice cancelled = Assert.Single(notices);
        Assert.Equal("WARNING", cancelled.InvariantSeverity);
        Assert.Equal("01000", cancelled.SqlState);
        Assert.Equal("SyncRepWaitForLSN", cancelled.Routine);
        Assert.Equal(1L, (long)(await Resilient.AdminAsync(ConnectionString, "SELECT count(*) FROM orders WHERE id = 1001"))!);
    }

    [PostgresFact]
    public async Task A_unit_whose_COMMIT_wait_for_the_standby_hit_the_command_timeout_is_an_unknown_outcome_not_a_success()
    {
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(ConnectionString, logs, s => s.CommandTimeoutSeconds = 2);
        int attempts = 0;
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
        }));

        output.WriteLine(unknown.Message);
        AssertNotReplicated(unknown, attempts);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 1")); // committed on the primary only
        Assert.Contains(logs.Records, r => r.Level == Microsoft.Extensions.Logging.LogLevel.Error && r.AllText.Contains("synchronous standby", StringComparison.Ordinal));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    /// <summary>
    /// With <c>Multiplexing=true</c> a transaction binds its connection to one physical connection, so the COMMIT's warning
    /// reaches the session's connection as without multiplexing.
    /// </summary>
    [PostgresFact]
    public async Task With_multiplexing_a_unit_whose_COMMIT_wait_for_the_standby_hit_the_command_timeout_is_an_unknown_outcome()
    {
        await using Pg db = Resilient.Pg(ConnectionString + ";Multiplexing=true", configure: s => s.CommandTimeoutSeconds = 2);
        int attempts = 0;
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (7)", ct);
        }));

        AssertNotReplicated(unknown, attempts);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 7"));
    }

    /// <summary>
    /// With <c>Multiplexing=true</c> an autocommit last statement runs on a physical connection Npgsql shares, bound to the
    /// session's connection while its results are read, so the warning reaches it too.
    /// </summary>
    [PostgresFact]
    public async Task With_multiplexing_an_autocommit_last_statement_whose_wait_for_the_standby_was_cancelled_is_an_unknown_outcome()
    {
        await using Pg db = Resilient.Pg(ConnectionString + ";Multiplexing=true", configure: s => s.CommandTimeoutSeconds = 2);
        Assert.True(db.IsMultiplexing);
        await using PgSession session = await db.OpenSessionAsync();
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () =>
            await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (8)", 0, static (_, _) => { }));

        AssertNotReplicated(unknown, attempts: 1);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 8"));
    }

    /// <summary>
    /// Verified mode's bypass, where it matters: the unit asks for synchronous commit itself (<c>SET LOCAL</c>) and the
    /// connection's default is <c>local</c>, so the verifier's own barrier does not wait for the standby and would find the
    /// transaction committed (on the primary). (Found by review helper-31; with the default on, the barrier waits too and
    /// the outcome stays unknown either way.)
    /// </summary>
    [PostgresFact]
    public async Task Verified_mode_with_the_units_own_synchronous_commit_does_not_verify_a_COMMIT_the_standby_never_confirmed()
    {
        await using Pg db = Resilient.Pg(ConnectionString + ";Options=-c synchronous_commit=local", configure: s => s.CommandTimeoutSeconds = 2);
        int attempts = 0;
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "SET LOCAL synchronous_commit = on", ct);
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (9)", ct);
        }));

        AssertNotReplicated(unknown, attempts);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 9"));
    }

    /// <summary>
    /// An operator cancels the backends stuck on the standby (<c>pg_cancel_backend</c> on those waiting for <c>SyncRep</c>),
    /// long before DbCore's command timeout: no client timeout is involved, only the server's warning tells.
    /// (<c>statement_timeout</c> never ends this wait: PostgreSQL disables it before it commits.)
    /// </summary>
    [PostgresFact]
    public async Task A_unit_whose_COMMIT_wait_for_the_standby_an_operator_cancelled_is_an_unknown_outcome_not_a_success()
    {
        await using Pg db = Resilient.Pg(ConnectionString, configure: s => s.CommandTimeoutSeconds = 120);
        int attempts = 0;
        Task unit = db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
        });

        Assert.True(
            await Resilient.EventuallyAsync(
                async () => (bool)(await Resilient.AdminAsync(ConnectionString, "SELECT count(pg_cancel_backend(pid)) > 0 FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND datname = current_database()"))!,
                TimeSpan.FromSeconds(20)),
            "no backend was waiting for the synchronous standby");
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => unit);

        AssertNotReplicated(unknown, attempts);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 2"));
    }

    /// <summary>
    /// Verified mode with synchronous commit on for every connection: the verifier's barrier waits for the missing standby
    /// too and is cancelled in turn, so the outcome stays unknown (the bypass is shown by the test above).
    /// </summary>
    [PostgresFact]
    public async Task Verified_mode_does_not_turn_a_COMMIT_the_standby_never_confirmed_into_a_success()
    {
        await using Pg db = Resilient.Pg(ConnectionString, configure: s => s.CommandTimeoutSeconds = 2);
        int attempts = 0;
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (3)", ct);
        }));

        AssertNotReplicated(unknown, attempts);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 3"));
    }

    /// <summary>The last statement in autocommit (nothing written before it) commits itself, and waits for the standby itself.</summary>
    [PostgresFact]
    public async Task An_autocommit_last_statement_whose_wait_for_the_standby_was_cancelled_is_an_unknown_outcome()
    {
        await using Pg db = Resilient.Pg(ConnectionString, configure: s => s.CommandTimeoutSeconds = 2);
        await using PgSession session = await db.OpenSessionAsync();
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () =>
            await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (4)", 0, static (_, _) => { }));

        AssertNotReplicated(unknown, attempts: 1);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(ConnectionString, "id = 4"));
    }

    /// <summary>The last statement and COMMIT in one batch (after an earlier write).</summary>
    [PostgresFact]
    public async Task A_last_statement_and_COMMIT_batch_whose_wait_for_the_standby_was_cancelled_is_an_unknown_outcome()
    {
        await using Pg db = Resilient.Pg(ConnectionString, configure: s => s.CommandTimeoutSeconds = 2);
        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (5)");
        await using DbCommand last = session.CreateCommand("INSERT INTO orders VALUES (6)");
        var unknown = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () => await session.ExecuteAndCommitAsync(last));

        AssertNotReplicated(unknown, attempts: 1);
        Assert.Equal(2L, await Resilient.CountOrdersAsync(ConnectionString, "id IN (5, 6)"));
    }

    private static void AssertNotReplicated(CommitOutcomeUnknownException unknown, int attempts)
    {
        Assert.Equal(1, attempts);
        Assert.False(unknown.IsTransient);
        Assert.Equal("01000", unknown.SqlState);
        Assert.Contains("synchronous standby", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("failover may lose it", unknown.Message, StringComparison.Ordinal);
    }
}
