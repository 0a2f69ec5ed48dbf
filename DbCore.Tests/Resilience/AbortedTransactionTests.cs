using System.Data.Common;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;

namespace DbCore.Tests.Resilience;

/// <summary>
/// PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK and no error. A unit or session whose transaction the
/// server aborted (an error the work caught and swallowed) must never report success.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AbortedTransactionTests(PostgresServer server)
{
    private Task<string> OrdersAsync(string prefix) => Resilient.CreateOrdersDatabaseAsync(server, prefix, seed: "INSERT INTO orders VALUES (1)");

    private static Task<long> CountAsync(string cs, string where) => Resilient.CountOrdersAsync(cs, where);

    /// <summary>Inserts order 2, then a duplicate of order 1 whose error it catches and ignores.</summary>
    private static async Task InsertAndSwallowDuplicateAsync(PgSession session, CancellationToken ct)
    {
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
        try
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
        }
        catch (DbException)
        {
            // swallowed: the bug this test is about
        }
    }

    [PostgresFact]
    public async Task Unit_of_work_whose_error_was_swallowed_throws_TransactionAborted_and_commits_nothing()
    {
        string cs = await OrdersAsync("swallow");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        var ex = await Assert.ThrowsAsync<TransactionAbortedException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await InsertAndSwallowDuplicateAsync(session, ct);
        }));

        Assert.Equal(1, runs);
        Assert.False(ex.IsTransient);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal("25P02", ex.SqlState);
        Assert.Equal(0, await CountAsync(cs, "id = 2"));
        Assert.Equal(0, await Resilient.BusyBackendsAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_error_in_a_later_statement_of_a_reader_disposed_early_still_aborts_the_commit(bool readsStatus)
    {
        // The failing statement is the second of a two-statement command whose reader the work disposes after the first
        // result: the error arrives while Npgsql drains the reader (thrown there, and swallowed). Both guards must see it.
        string cs = await OrdersAsync("swallowbatch" + (readsStatus ? "s" : "p"));
        await using Pg db = Resilient.Pg(cs);
        db.ReadsTransactionStatus = readsStatus;

        await Assert.ThrowsAsync<TransactionAbortedException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            try
            {
                await using DbCommand command = session.CreateCommand("SELECT 1; INSERT INTO orders VALUES (1)");
                await using DbDataReader reader = await command.ExecuteReaderAsync(ct);
                await reader.ReadAsync(ct);
            }
            catch (DbException)
            {
                // swallowed
            }
        }));

        Assert.Equal(0, await CountAsync(cs, "id = 2"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Scoped_session_commit_after_a_swallowed_error_throws_TransactionAborted()
    {
        string cs = await OrdersAsync("swallowsession");
        await using Pg db = Resilient.Pg(cs);

        await using (PgSession session = db.CreateSession())
        {
            await session.OpenAsync();
            await InsertAndSwallowDuplicateAsync(session, default);
            await Assert.ThrowsAsync<TransactionAbortedException>(async () => await session.CommitAsync());
            Assert.False(session.IsCommitted);
            await session.RollbackAsync(); // a no-op now, and it does not hide the error above
        }

        Assert.Equal(0, await CountAsync(cs, "id = 2"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Verified_unit_whose_error_was_swallowed_throws_TransactionAborted()
    {
        string cs = await OrdersAsync("swallowverified");
        await using Pg db = Resilient.Pg(cs);

        var ex = await Assert.ThrowsAsync<TransactionAbortedException>(() => db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            await InsertAndSwallowDuplicateAsync(session, ct);
            return 0;
        }));

        Assert.False(ex.IsTransient);
        Assert.Equal(0, await CountAsync(cs, "id = 2"));
    }

    [PostgresFact]
    public async Task Error_recovered_with_a_savepoint_still_commits()
    {
        string cs = await OrdersAsync("savepoint");
        await using Pg db = Resilient.Pg(cs);

        await db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            await Resilient.NonQueryAsync(session, "SAVEPOINT before_duplicate", ct);
            try
            {
                await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            }
            catch (DbException)
            {
                await Resilient.NonQueryAsync(session, "ROLLBACK TO SAVEPOINT before_duplicate", ct);
            }
        });

        Assert.Equal(1, await CountAsync(cs, "id = 2"));
    }

    [PostgresFact]
    public async Task Work_that_commits_through_the_raw_transaction_is_respected()
    {
        string cs = await OrdersAsync("rawcommit");
        await using Pg db = Resilient.Pg(cs);

        await db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            await session.Transaction.CommitAsync(ct);
        });

        Assert.Equal(1, await CountAsync(cs, "id = 2"));
        Assert.Equal(0, await Resilient.BusyBackendsAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
