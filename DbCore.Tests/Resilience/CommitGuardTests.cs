using System.Data;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Observability;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>
/// The COMMIT guard: <c>CommitAsync</c> reads the transaction status of the server's last ReadyForQuery, which Npgsql keeps
/// (<c>ServerTransactionStatus</c>), and where it cannot, prepends <c>SAVEPOINT dbcore</c> (<c>GuardedCommit.Savepoint</c>)
/// to Npgsql's own COMMIT. These tests pin the Npgsql behaviour both rely on, and show what an aborted transaction costs:
/// no connection with the status, the one connection Npgsql closes with the SAVEPOINT (not taken for a server going away).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitGuardTests(PostgresServer server)
{
    /// <summary>The backends of the test database other than the asking one, sorted, comma-separated.</summary>
    private static async Task<string> BackendsAsync(string cs)
        => (string?)await Resilient.AdminAsync(cs, "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") ?? "";

    [PostgresFact]
    public async Task Npgsql_throws_25P02_and_closes_the_connection_when_a_prepended_savepoint_is_refused()
    {
        // If an Npgsql upgrade ever swallowed the error of a prepended statement instead, an aborted transaction would be
        // reported as committed again: this test is the tripwire.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "guardpin", seed: "INSERT INTO orders VALUES (1)");
        await using NpgsqlDataSource raw = NpgsqlDataSource.Create(cs);
        await using NpgsqlConnection connection = await raw.OpenConnectionAsync();
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync();
        await new NpgsqlCommand("INSERT INTO orders VALUES (2)", connection, transaction).ExecuteNonQueryAsync();
        await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("INSERT INTO orders VALUES (1)", connection, transaction).ExecuteNonQueryAsync());

        transaction.Save(GuardedCommit.Savepoint);
        var ex = await Assert.ThrowsAsync<PostgresException>(() => transaction.CommitAsync());

        Assert.Equal(PostgresErrorCodes.InFailedSqlTransaction, ex.SqlState);
        Assert.Equal(ConnectionState.Broken, connection.FullState);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));

        // Without the savepoint the same COMMIT "succeeds": the server answers ROLLBACK and Npgsql does not look.
        await using NpgsqlConnection other = await raw.OpenConnectionAsync();
        await using NpgsqlTransaction unguarded = await other.BeginTransactionAsync();
        await new NpgsqlCommand("INSERT INTO orders VALUES (3)", other, unguarded).ExecuteNonQueryAsync();
        await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand("INSERT INTO orders VALUES (1)", other, unguarded).ExecuteNonQueryAsync());
        await unguarded.CommitAsync();
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public void Npgsql_exposes_the_transaction_status_the_guard_reads()
    {
        // If an Npgsql upgrade renamed the members, the guard would fall back to its SAVEPOINT (still correct, one more
        // statement per commit): this test says so instead of a benchmark.
        Assert.True(ServerTransactionStatus.IsAvailable);
    }

    [PostgresTheory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_aborted_transaction_costs_no_connection_or_at_most_its_own_and_no_check_or_pool_clear_elsewhere(bool readsStatus)
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "guardcost" + (readsStatus ? "s" : "p"), seed: "INSERT INTO orders VALUES (1)");
        var logs = new LogCollector();
        using var metrics = new MetricCapture();
        await using Pg db = Resilient.Pg(cs, logs);
        db.ReadsTransactionStatus = readsStatus;

        // Five pooled connections, warm.
        PgSession[] warm = new PgSession[5];
        for (int i = 0; i < warm.Length; i++)
        {
            warm[i] = await db.OpenSessionAsync();
            await Resilient.ScalarAsync<int>(warm[i], "SELECT 1");
        }

        foreach (PgSession session in warm)
        {
            await session.DisposeAsync();
        }

        string before = await BackendsAsync(cs);
        Dictionary<string, long> statements = await server.StatementsAsync(cs, async () =>
        {
            await using (PgSession session = await db.OpenSessionAsync())
            {
                await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)");
                await Assert.ThrowsAnyAsync<PostgresException>(() => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)")); // swallowed
                var ex = await Assert.ThrowsAsync<TransactionAbortedException>(async () => await session.CommitAsync());
                Assert.Equal("25P02", ex.SqlState);
            }

            // Five sessions at once afterwards: none fails, none is checked first (a suspect connection would be).
            PgSession[] after = new PgSession[5];
            for (int i = 0; i < after.Length; i++)
            {
                after[i] = await db.OpenSessionAsync();
                Assert.Equal(1L, await Resilient.ScalarAsync<long>(after[i], "SELECT count(*) FROM orders"));
            }

            foreach (PgSession session in after)
            {
                await session.DisposeAsync();
            }
        });

        string[] survivors = [.. (await BackendsAsync(cs)).Split(',').Intersect(before.Split(','))];
        if (readsStatus)
        {
            // Known aborted before COMMIT: DbCore sent ROLLBACK instead, and the connection went back to the pool.
            Assert.Equal(5, survivors.Length);
            Assert.DoesNotContain("COMMIT", statements.Keys);
            Assert.DoesNotContain("SAVEPOINT " + GuardedCommit.Savepoint, statements.Keys);
            Assert.Equal(1, statements["ROLLBACK"]);
        }
        else
        {
            Assert.Equal(4, survivors.Length); // the refused one was replaced, the other four are the same processes
        }

        Assert.DoesNotContain("SELECT $1", statements.Keys); // no suspect check
        Assert.Empty(logs.Named("PoolCleared"));
        Assert.Empty(logs.Named("RollbackFailed"));
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
        Assert.Single(metrics.For("dbcore.rollbacks", new NpgsqlConnectionStringBuilder(cs).Database!));
    }

    [PostgresFact]
    public async Task Work_that_committed_the_transaction_itself_gets_no_second_commit_or_guard()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "guardended");
        await using Pg db = Resilient.Pg(cs);
        await db.ExecuteAsync((s, ct) => Resilient.ScalarAsync<int>(s, "SELECT 1", ct)); // warm

        Dictionary<string, long> statements = await server.StatementsAsync(cs, () => db.ExecuteAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            await session.Transaction.CommitAsync(ct); // the work's own COMMIT; the unit's commit then has nothing to send
        }));

        Assert.Equal(1, statements["COMMIT"]);
        Assert.DoesNotContain("SELECT $1", statements.Keys);
        Assert.DoesNotContain("SAVEPOINT " + GuardedCommit.Savepoint, statements.Keys);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
    }
}
