using System.Data.Common;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Observability;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Postgres;

/// <summary>
/// <c>ExecuteAndCommitAsync(sql, state, bind)</c>: the session creates its last statement itself, so a unit whose only
/// write is that statement runs it in autocommit and sends what raw Npgsql sends (pg_stat_statements), and after an
/// earlier write the statement and COMMIT go as one batch with no guard statement (the statement guards itself).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LastWriteTests(PostgresServer server)
{
    private const string Insert = "INSERT INTO orders VALUES ($1)";

    private static ValueTask<int> InsertAndCommitAsync(PgSession session, int id, CancellationToken ct = default)
        => session.ExecuteAndCommitAsync(Insert, id, static (command, id) => command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id }), ct);

    private static async Task<long> CountAsync(PgSession session)
        => await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM orders");

    [PostgresFact]
    public async Task A_unit_that_reads_then_writes_once_sends_what_raw_Npgsql_sends_with_and_without_multiplexing()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwriteraw");
        using var metrics = new MetricCapture();
        int id = 0;
        foreach (bool multiplexing in new[] { false, true })
        {
            string connectionString = new NpgsqlConnectionStringBuilder(cs) { Multiplexing = multiplexing }.ConnectionString;
            await using Pg db = Resilient.Pg(connectionString);
            await using NpgsqlDataSource raw = NpgsqlDataSource.Create(connectionString);
            async Task RawAsync()
            {
                await using NpgsqlConnection connection = await raw.OpenConnectionAsync();
                await using (var read = new NpgsqlCommand("SELECT count(*) FROM orders", connection))
                {
                    await read.ExecuteScalarAsync();
                }

                await using var insert = new NpgsqlCommand(Insert, connection);
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = ++id });
                Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            }

            async Task DbCoreAsync()
            {
                await using PgSession session = db.CreateSession(); // the scoped session of a request
                await CountAsync(session);
                Assert.Equal(1, await InsertAndCommitAsync(session, ++id));
                Assert.True(session.IsCommitted);
            }

            await RawAsync(); // both pools warm
            await DbCoreAsync();
            Dictionary<string, long> rawNpgsql = await server.StatementsAsync(cs, async () =>
            {
                for (int i = 0; i < 3; i++)
                {
                    await RawAsync();
                }
            });
            Dictionary<string, long> dbcore = await server.StatementsAsync(cs, async () =>
            {
                for (int i = 0; i < 3; i++)
                {
                    await DbCoreAsync();
                }
            });

            Assert.Equal(rawNpgsql.OrderBy(p => p.Key), dbcore.OrderBy(p => p.Key)); // no BEGIN, no guard, no COMMIT
            Assert.Equal(3, dbcore[Insert]);
        }

        Assert.Equal(id, await Resilient.CountOrdersAsync(cs));
        Assert.Empty(metrics.For("dbcore.rollbacks", new NpgsqlConnectionStringBuilder(cs).Database!));
    }

    [PostgresFact]
    public async Task After_an_earlier_write_the_last_statement_and_COMMIT_go_in_one_batch_without_a_guard_statement()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritetx");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy));
        int roundTrips = 0;
        Dictionary<string, long> statements = await server.StatementsAsync(cs, async () =>
        {
            await using PgSession session = await db.OpenSessionAsync();
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            int before = proxy.RoundTrips;
            Assert.Equal(1, await InsertAndCommitAsync(session, 2));
            roundTrips = proxy.RoundTrips - before;
            Assert.True(session.IsCommitted);
        });

        Assert.Equal(1, roundTrips);
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(1, statements["COMMIT"]);
        Assert.Equal(1, statements[Insert]);
        Assert.DoesNotContain("SELECT $1", statements.Keys); // no guard (pg_stat_statements shows SELECT 1 so)
        Assert.DoesNotContain("SAVEPOINT " + GuardedCommit.Savepoint, statements.Keys); // nor CommitAsync's
    }

    [PostgresFact]
    public async Task After_a_swallowed_error_the_last_statement_is_refused_and_nothing_is_committed()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwriteaborted", seed: "INSERT INTO orders VALUES (7)");
        await using Pg db = Resilient.Pg(cs);

        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            await Assert.ThrowsAnyAsync<Exception>(() => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (7)")); // swallowed
            await Assert.ThrowsAsync<TransactionAbortedException>(async () => await InsertAndCommitAsync(session, 2));
            Assert.False(session.IsCommitted);
        }

        // The same with a comment-only last statement, which the server would answer even in an aborted transaction:
        // the guard is sent for it.
        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            await Assert.ThrowsAnyAsync<Exception>(() => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (7)")); // swallowed
            await Assert.ThrowsAsync<TransactionAbortedException>(async () =>
                await session.ExecuteAndCommitAsync("-- nothing to do", 0, static (_, _) => { }));
        }

        Assert.Equal(1, await Resilient.CountOrdersAsync(cs)); // the seed only
    }

    [PostgresFact]
    public async Task An_autocommit_last_statement_that_fails_is_typed_and_applies_nothing()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritefail", seed: "INSERT INTO orders VALUES (7)");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = db.CreateSession();
        Assert.Equal(1, await CountAsync(session));
        var ex = await Assert.ThrowsAsync<UniqueViolationException>(async () =>
            await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (8); INSERT INTO orders VALUES (@id)", 7,
                static (command, id) => command.Parameters.Add(new NpgsqlParameter<int>("id", id))));

        Assert.Equal("23505", ex.SqlState);
        Assert.False(session.IsOpen);
        Assert.False(session.IsCommitted);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs)); // the two statements ran as one implicit transaction: 8 is not there
    }

    [PostgresFact]
    public async Task A_lost_answer_to_an_autocommit_last_statement_is_an_unknown_outcome()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritelost");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy));

        await using PgSession session = db.CreateSession();
        Assert.Equal(0, await CountAsync(session));
        proxy.DropNextAnswerTo("INSERT INTO orders");
        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () => await InsertAndCommitAsync(session, 1));

        Assert.Contains("last statement ran in autocommit", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTransient); // never retried blindly
        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs)); // it was applied; the client could not know
    }

    [PostgresFact]
    public async Task A_read_only_unit_refuses_the_last_statement_with_25006_instead_of_running_it_in_autocommit()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritereadonly");
        await using Pg db = Resilient.Pg(cs);

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            await CountAsync(session);
            return await InsertAndCommitAsync(session, 1, ct);
        }));

        Assert.Equal("25006", ex.SqlState);
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_retrying_write_unit_runs_the_last_statement_in_its_transaction()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwriteunit");
        await using Pg db = Resilient.Pg(cs);

        Dictionary<string, long> statements = await server.StatementsAsync(cs, async () =>
            Assert.Equal(1, await db.ExecuteAsync(async (session, ct) => await InsertAndCommitAsync(session, 1, ct))));

        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(1, statements["COMMIT"]); // begun at open, as every retrying unit is
    }

    [PostgresFact]
    public async Task A_session_already_committed_refuses_another_last_statement_before_anything_is_sent()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritetwice");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = db.CreateSession();
        await InsertAndCommitAsync(session, 1);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(async () => await InsertAndCommitAsync(session, 2));
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_last_command_of_several_statements_after_an_earlier_write_runs_and_commits_or_fails_typed()
    {
        // A batch command takes one statement: such a text is run on its own and committed after it (two round trips).
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwriteseveral", seed: "INSERT INTO orders VALUES (7)");
        await using Pg db = Resilient.Pg(cs);
        static void Bind(DbCommand command, int id) => command.Parameters.Add(new NpgsqlParameter<int>("id", id));

        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            Assert.Equal(2, await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (2); INSERT INTO orders VALUES (@id)", 3, Bind));
            Assert.True(session.IsCommitted);
        }

        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (4)");
            await Assert.ThrowsAsync<UniqueViolationException>(async () =>
                await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (5); INSERT INTO orders VALUES (@id)", 7, Bind));
            Assert.False(session.IsCommitted);
        }

        Assert.Equal(4, await Resilient.CountOrdersAsync(cs)); // 7, 1, 2, 3: nothing of the failed session
    }

    [PostgresFact]
    public async Task An_autocommit_last_statement_the_server_cancelled_for_its_timeout_is_a_command_timeout_not_an_unknown_outcome()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritetimeout");
        await using Pg db = Resilient.Pg(new NpgsqlConnectionStringBuilder(cs) { CommandTimeout = 1 }.ConnectionString);

        await using PgSession session = db.CreateSession();
        await Assert.ThrowsAsync<CommandTimeoutException>(async () =>
            await session.ExecuteAndCommitAsync("INSERT INTO orders SELECT 1 FROM pg_sleep(3)", 0, static (_, _) => { }));

        Assert.False(session.IsCommitted);
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs)); // cancelled by the server: nothing applied, and DbCore knows it
    }

    [PostgresFact]
    public async Task Inside_a_TransactionScope_the_last_statement_never_runs_in_autocommit()
    {
        // Pooling=false keeps Npgsql's Enlist=true: an autocommit statement would join the scope, which rolls it back, while
        // the session reported it committed. DbCore takes the transaction path there, as before this overload existed.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritescope");
        await using Pg db = Resilient.Pg(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);

        using (new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled))
        {
            await using PgSession session = db.CreateSession();
            Exception? failure = await Record.ExceptionAsync(async () => await InsertAndCommitAsync(session, 1));
            Assert.True(failure is not null || !session.IsCommitted, "reported committed inside a scope that is rolled back");
        } // not completed: rolled back

        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task CommitAsync_with_a_cancelled_token_is_cancelled_and_commits_nothing()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastwritecancel");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
        ValueTask commit = session.CommitAsync(new CancellationToken(canceled: true));

        Assert.True(commit.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await commit);
        Assert.True(session.IsOpen);
        await session.DisposeAsync();
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
    }
}
