using DbCore.Tests.Infrastructure;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Postgres;

/// <summary>
/// <c>ExecuteAndCommitAsync</c>: a session's last write and its COMMIT in one round trip (the statement, the
/// aborted-transaction guard and COMMIT as one batch), with the errors of running the statement and of committing kept
/// apart. Round trips are counted at a proxy (ReadyForQuery messages).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ExecuteAndCommitTests(PostgresServer server)
{
    private static async Task<NpgsqlCommand> InsertCommandAsync(PgSession session, int id)
    {
        NpgsqlCommand command = session.CreateCommand("INSERT INTO orders VALUES (@id)");
        command.Parameters.Add(new NpgsqlParameter<int>("id", id));
        await Task.CompletedTask;
        return command;
    }

    /// <summary>The states of the test database's other backends (the session's connection), comma-separated.</summary>
    private static async Task<object?> SessionStatesAsync(string cs)
        => await Resilient.AdminAsync(cs, "SELECT string_agg(state, ',') FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");

    [PostgresFact]
    public async Task The_last_write_and_the_commit_take_one_round_trip_where_execute_then_commit_takes_two()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "execcommit");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy));

        int separate;
        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
            await using NpgsqlCommand last = await InsertCommandAsync(session, 2);
            int before = proxy.RoundTrips;
            await last.ExecuteNonQueryAsync();
            await session.CommitAsync();
            separate = proxy.RoundTrips - before;
        }

        int together, affected;
        await using (PgSession session = await db.OpenSessionAsync())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (3)");
            await using NpgsqlCommand last = await InsertCommandAsync(session, 4);
            int before = proxy.RoundTrips;
            affected = await session.ExecuteAndCommitAsync(last);
            together = proxy.RoundTrips - before;
            Assert.True(session.IsCommitted);
            Assert.Single(last.Parameters); // the command keeps its parameters
        }

        Assert.Equal(2, separate);
        Assert.Equal(1, together);
        Assert.Equal(1, affected);
        Assert.Equal(4, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_last_statement_that_fails_is_typed_and_nothing_of_the_session_is_committed()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "execcommitfail", seed: "INSERT INTO orders VALUES (7)");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
        await using NpgsqlCommand duplicate = await InsertCommandAsync(session, 7);
        var ex = await Assert.ThrowsAsync<UniqueViolationException>(async () => await session.ExecuteAndCommitAsync(duplicate));

        Assert.Equal("23505", ex.SqlState);
        Assert.False(session.IsOpen);
        Assert.False(session.IsCommitted);
        Assert.Equal(1, await Resilient.CountOrdersAsync(cs)); // the seed only: row 1 was rolled back with the session
        Assert.Equal("idle", await SessionStatesAsync(cs)); // rolled back, not left idle in an aborted transaction
    }

    [PostgresFact]
    public async Task A_deferred_constraint_that_fails_at_the_commit_is_typed_and_nothing_is_committed()
    {
        string cs = await server.CreateDatabaseAsync("execcommitdeferred");
        await Resilient.AdminAsync(cs, "CREATE TABLE orders (id int, CONSTRAINT orders_once UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
        await using NpgsqlCommand duplicate = await InsertCommandAsync(session, 1); // runs; the check waits for COMMIT
        var ex = await Assert.ThrowsAsync<UniqueViolationException>(async () => await session.ExecuteAndCommitAsync(duplicate));

        Assert.Equal("orders_once", ex.ConstraintName);
        Assert.False(session.IsCommitted);
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
        Assert.Equal("idle", await SessionStatesAsync(cs)); // rolled back, not left idle in an aborted transaction
    }

    [PostgresFact]
    public async Task A_transaction_aborted_by_a_swallowed_error_is_not_committed_by_the_last_write()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "execcommitaborted", seed: "INSERT INTO orders VALUES (7)");
        await using Pg db = Resilient.Pg(cs);

        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
        await Assert.ThrowsAnyAsync<Exception>(() => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (7)")); // swallowed
        await using NpgsqlCommand last = await InsertCommandAsync(session, 2);
        await Assert.ThrowsAsync<TransactionAbortedException>(async () => await session.ExecuteAndCommitAsync(last));

        Assert.Equal(1, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_lost_answer_to_the_batch_is_an_unknown_commit_outcome()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "execcommitlost");
        await using var proxy = new DroppingProxy(server.Port);
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy));

        await using PgSession session = await db.OpenSessionAsync();
        await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)");
        await using NpgsqlCommand last = await InsertCommandAsync(session, 2);
        proxy.DropNextCommitAnswer();
        await Assert.ThrowsAsync<CommitOutcomeUnknownException>(async () => await session.ExecuteAndCommitAsync(last));

        Assert.Equal(1, proxy.Dropped);
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs)); // it was committed; the client could not know
    }

    [PostgresFact]
    public async Task A_command_of_another_session_is_refused_before_anything_is_sent()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "execcommitother");
        await using Pg db = Resilient.Pg(cs);
        await using PgSession first = await db.OpenSessionAsync();
        await using PgSession second = await db.OpenSessionAsync();
        await using NpgsqlCommand command = await InsertCommandAsync(first, 1);

        await Assert.ThrowsAsync<ArgumentException>(async () => await second.ExecuteAndCommitAsync(command));
        Assert.True(second.IsOpen);
        Assert.Equal(0, await Resilient.CountOrdersAsync(cs));
    }
}
