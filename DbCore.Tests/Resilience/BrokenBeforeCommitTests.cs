using DbCore.Errors;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;
using NpgsqlTypes;

namespace DbCore.Tests.Resilience;

/// <summary>
/// A COMMIT (or a last statement) of a unit whose connection broke under a statement whose error the work caught: nothing was
/// sent, so the unit is retried when what broke the connection was the server or the network, and not when the work's own
/// argument broke it (it breaks it again on every attempt).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BrokenBeforeCommitTests(PostgresServer server)
{
    /// <summary>A parameter Npgsql cannot write for <c>timestamptz</c>: it breaks the connection mid-message.</summary>
    private static readonly DateTimeOffset Unwritable = new(2027, 1, 1, 0, 0, 0, TimeSpan.FromHours(2));

    private static async Task BreakWithArgumentAsync(PgSession session, CancellationToken ct)
    {
        await using NpgsqlCommand command = session.CreateCommand("INSERT INTO orders SELECT 99 WHERE $1::timestamptz IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter { Value = Unwritable, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (ArgumentException)
        {
            // Caught and not rethrown: the bug this class is about.
        }
    }

    [PostgresFact]
    public async Task A_commit_after_the_work_broke_its_connection_with_an_argument_is_not_retried_and_says_why()
    {
        // Before: the COMMIT was a transient ConnectionFailureException with no inner exception, so the unit ran
        // Retry:MaxAttempts times, breaking its connection each time, and ended without naming the ArgumentException.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "brokenarg");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 4);
        int runs = 0;
        var unit = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            await BreakWithArgumentAsync(session, ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, unit.Attempts);
        Assert.False(unit.IsTransient);
        Assert.IsAssignableFrom<ArgumentException>(unit.InnerException);
        Assert.Contains(nameof(ArgumentException), unit.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await Resilient.CountOrdersAsync(cs));

        // The scoped session's CommitAsync and ExecuteAndCommitAsync (after a write: in the transaction) say the same.
        await using (PgSession session = db.CreateSession())
        {
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)");
            await BreakWithArgumentAsync(session, default);
            var commit = await Assert.ThrowsAsync<ConnectionFailureException>(() => session.CommitAsync().AsTask());
            Assert.False(commit.IsTransient);
            Assert.IsAssignableFrom<ArgumentException>(commit.InnerException);
        }

        runs = 0;
        var last = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (3)", ct);
            await BreakWithArgumentAsync(session, ct);
            return await session.ExecuteAndCommitAsync("INSERT INTO orders VALUES (4)", 0, static (_, _) => { }, ct);
        }));
        Assert.Equal(1, runs);
        Assert.False(last.IsTransient);
        Assert.IsAssignableFrom<ArgumentException>(last.InnerException);
        Assert.Equal(0L, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task A_commit_after_a_caught_timeout_that_broke_the_connection_is_not_retried_as_that_timeout_is_not()
    {
        // The link went dead under a statement (the proxy stops carrying bytes); its cancel is not answered, so Npgsql
        // closes the connection with a timeout. The work catches that and returns. Not retried, as a unit that does not
        // catch it is not (SilentDropTests): from the client a dead link and a statement still running look the same.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "brokentimeout");
        await using var proxy = new DroppingProxy(new NpgsqlConnectionStringBuilder(cs).Port);
        await using Pg db = Resilient.OneConnectionBehind(proxy, cs, commandTimeoutSeconds: 1);
        await db.ExecuteAsync((session, ct) => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct));

        int runs = 0;
        var unit = await Assert.ThrowsAsync<ConnectionFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            proxy.BlackholeOpenConnections();
            try
            {
                await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (3)", ct);
            }
            catch (NpgsqlException)
            {
            }
        }));

        Assert.Equal(1, runs);
        Assert.False(unit.IsTransient);
        Assert.IsAssignableFrom<NpgsqlException>(unit.InnerException);
        Assert.Contains(nameof(CommandTimeoutException), unit.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task A_commit_after_the_server_ended_the_connection_is_retried_and_names_the_server_error()
    {
        // The break was the server's (57P01, what pg_terminate_backend sends): a retry may well succeed, so it is kept. The
        // retried attempt does not break its connection and commits once.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "brokensrv");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;
        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct);
            if (runs == 1)
            {
                try
                {
                    await Resilient.NonQueryAsync(session, "SELECT pg_terminate_backend(pg_backend_pid())", ct);
                }
                catch (NpgsqlException)
                {
                }
            }
        });

        Assert.Equal(2, runs);
        Assert.Equal(1L, await Resilient.CountOrdersAsync(cs));

        await using PgSession scoped = db.CreateSession();
        await Resilient.NonQueryAsync(scoped, "INSERT INTO orders VALUES (2)");
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Resilient.NonQueryAsync(scoped, "SELECT pg_terminate_backend(pg_backend_pid())"));
        var commit = await Assert.ThrowsAsync<ConnectionFailureException>(() => scoped.CommitAsync().AsTask());
        Assert.True(commit.IsTransient);
        Assert.IsAssignableFrom<NpgsqlException>(commit.InnerException);
    }
}
