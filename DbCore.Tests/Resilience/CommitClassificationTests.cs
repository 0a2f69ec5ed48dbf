using System.Data.Common;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;
using NpgsqlTypes;

namespace DbCore.Tests.Resilience;

/// <summary>
/// What a failure at the end of a unit is called: an unknown outcome only when COMMIT (or a statement that commits itself)
/// may have reached the server, and never a plain failure when it may have been applied. From a review of the status guard;
/// each case failed on the code before its fix.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitClassificationTests(PostgresServer server)
{
    [PostgresFact]
    public async Task An_aborted_transaction_whose_backend_died_before_the_rollback_is_aborted_not_an_unknown_outcome()
    {
        // The work swallows an error (the server aborts the transaction), then the backend is killed (an idle-in-transaction
        // timeout, a failover). COMMIT is never sent: the status says aborted, DbCore's ROLLBACK finds the connection dead.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "abortdead", seed: "INSERT INTO orders VALUES (1)");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 3);
        int runs = 0;

        await Assert.ThrowsAsync<TransactionAbortedException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            try
            {
                await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            }
            catch (DbException)
            {
                // swallowed: the transaction is aborted
            }

            await Resilient.AdminAsync(cs, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'");
            Assert.True(await Resilient.EventuallyAsync(async () => (long)(await Resilient.AdminAsync(cs, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction (aborted)'"))! == 0, TimeSpan.FromSeconds(10)));
        }));

        Assert.Equal(1, runs);
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs, "id = 2"));
    }

    [PostgresTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_transaction_the_work_disposed_is_ended_by_the_work_and_commit_sends_nothing(bool readsStatus)
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "txdisposed" + (readsStatus ? "s" : "p"));
        await using Pg db = Resilient.Pg(cs);
        db.ReadsTransactionStatus = readsStatus;

        await db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (5)", ct);
            await session.Transaction.DisposeAsync(); // Npgsql rolls back: the work's decision
        });

        await using (PgSession session = db.CreateSession())
        {
            await session.OpenAsync();
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (6)");
            await session.Transaction.DisposeAsync();
            await session.CommitAsync(); // nothing to commit: the work ended the transaction
            Assert.False(session.IsOpen);
        }

        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task A_COMMIT_statement_of_the_work_then_a_transient_failure_is_not_run_again()
    {
        // Npgsql reads the server's status after the work's own COMMIT statement, so the unit is ended by the work: never
        // run again, and its error says so to an outer retry (the same rule on SQLite: StatementEndedTransactionTests).
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "stmtcommit");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 3);
        int runs = 0;

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            await Resilient.NonQueryAsync(session, "COMMIT", ct);
            throw new PostgresException("could not serialize access", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure);
        }));

        Assert.Equal(1, runs);
        Assert.False(ex.IsTransient);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Protocol_error_after_a_last_statement_and_commit_batch_is_an_unknown_outcome()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastcorrupt");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            await using NpgsqlCommand last = session.CreateCommand($"INSERT INTO orders VALUES ({runs + 100})");
            proxy.CorruptNextCommitAnswer();
            await session.ExecuteAndCommitAsync(last, ct);
        }));

        Assert.Equal(1, runs); // never run again: the batch was committed
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task Protocol_error_after_an_autocommit_last_statement_is_an_unknown_outcome()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "autocorrupt");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            proxy.CorruptNextAnswerTo("INSERT INTO orders VALUES (7)");
            await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (7)", 0, static (_, _) => { }, ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_parameter_that_cannot_be_written_fails_a_last_statement_as_itself_and_nothing_is_committed()
    {
        // Npgsql checks parameters before it sends anything: the outcome is known, so it is not an unknown outcome.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "lastbadparam");
        await using Pg db = Resilient.Pg(cs);

        await using (PgSession session = db.CreateSession())
        {
            await session.OpenAsync();
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            await using NpgsqlCommand last = session.CreateCommand("INSERT INTO orders VALUES ($1)");
            last.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = "not a number" });
            await Assert.ThrowsAsync<InvalidCastException>(() => session.ExecuteAndCommitAsync(last).AsTask());
        }

        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
