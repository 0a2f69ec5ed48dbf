using System.Data;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>The edges of COMMIT: sent by the work itself, broken by a protocol error, cancelled while verifying, and after.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CommitEdgeTests(PostgresServer server)
{
    private Task<string> OrdersAsync(string prefix) => Resilient.CreateOrdersDatabaseAsync(server, prefix);

    private static Task<long> CountAsync(string cs) => Resilient.CountOrdersAsync(cs);

    private static string Proxied(string cs, DroppingProxy proxy) => Resilient.Proxied(cs, proxy);

    [PostgresFact]
    public async Task Broken_commit_sent_by_the_work_through_the_raw_transaction_is_unknown_and_not_rerun()
    {
        string cs = await OrdersAsync("rawcommitlost");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            proxy.DropNextCommitAnswer();
            await session.Transaction.CommitAsync(ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(1, await CountAsync(cs)); // committed, and applied once
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Protocol_error_after_the_commit_was_written_is_an_unknown_outcome()
    {
        string cs = await OrdersAsync("commitcorrupt");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        proxy.CorruptNextCommitAnswer();
        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
        }));

        Assert.Equal(1, runs);
        Assert.NotNull(ex.InnerException); // Npgsql's own error for the unknown message
        Assert.Equal(1, await CountAsync(cs));
    }

    [PostgresFact]
    public async Task Caller_cancelling_while_a_lost_commit_is_verified_gets_CommitOutcomeUnknown()
    {
        string cs = await OrdersAsync("verifycancel");
        await using var proxy = new DroppingProxy(server.Port) { StallAfterDrop = true };
        await using Pg db = Resilient.Pg(Proxied(cs, proxy), configure: s =>
        {
            s.Pool.Size = 0;
            s.Retry.MaxAttempts = 5;
        });
        using var cts = new CancellationTokenSource();
        Task canceller = Task.Run(async () =>
        {
            while (proxy.Dropped == 0)
            {
                await Task.Delay(10);
            }

            cts.CancelAfter(300); // DbCore is reconnecting to ask txid_status now; the new connection never gets through
        });

        proxy.DropNextCommitAnswer();
        var ex = await Assert.ThrowsAsync<CommitOutcomeUnknownException>(() => db.ExecuteVerifiedAsync(async (session, ct) =>
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            return 0;
        }, cts.Token));
        await canceller;

        Assert.False(ex.IsTransient);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Failure_after_the_commit_never_runs_a_committed_unit_again()
    {
        string cs = await OrdersAsync("afterdispose");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        int result = await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            // A handler that fails when the connection is returned, with an error that looks transient.
            session.Connection.StateChange += (_, e) =>
            {
                if (e.CurrentState == ConnectionState.Closed)
                {
                    throw new NpgsqlException("closing failed", new IOException("reset"));
                }
            };
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            return 42;
        });

        Assert.Equal(42, result);
        Assert.Equal(1, runs);
        Assert.Equal(1, await CountAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Unit_that_committed_through_the_raw_transaction_cannot_run_more_session_commands_and_is_not_rerun()
    {
        string cs = await OrdersAsync("rawcommitmore");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 5);
        int runs = 0;

        // Committing the session's transaction yourself ends the unit: a later session command is refused (Npgsql will not
        // bind a completed transaction), so nothing can run outside the transaction and then be retried.
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            await session.Transaction.CommitAsync(ct);
            await Resilient.ScalarAsync<int>(session, "SELECT 1", ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, await CountAsync(cs));
    }

    [PostgresFact]
    public async Task Commit_after_a_swallowed_broken_connection_is_a_retried_connection_failure_not_an_unknown_outcome()
    {
        string cs = await OrdersAsync("swallowedbreak");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, $"INSERT INTO orders VALUES ({runs})", ct);
            if (runs == 1)
            {
                int pid = await Resilient.ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct);
                await Resilient.AdminAsync(cs, $"SELECT pg_terminate_backend({pid})");
                try
                {
                    await Resilient.ScalarAsync<int>(session, "SELECT 1", ct);
                }
                catch (NpgsqlException)
                {
                    // swallowed
                }
            }
        });

        Assert.Equal(2, runs);
        Assert.Equal(1, await CountAsync(cs)); // the second run's row; the first run's was rolled back with its connection
    }
}
