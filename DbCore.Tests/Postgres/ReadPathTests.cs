using DbCore.Tests.Infrastructure;
using DbCore.Tests.Observability;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Postgres;

/// <summary>
/// The read path: on PostgreSQL a session's transaction begins with the first statement that may write, so a request that
/// only reads sends the statements raw Npgsql sends (counted by pg_stat_statements), and reads are no rollbacks.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ReadPathTests(PostgresServer server)
{
    private async Task<string> WorldAsync(string prefix)
    {
        string cs = await server.CreateDatabaseAsync(prefix);
        await Resilient.AdminAsync(cs, "CREATE TABLE world (id int PRIMARY KEY, n int NOT NULL); INSERT INTO world SELECT g, g FROM generate_series(1, 10) g");
        return cs;
    }

    private Task<Dictionary<string, long>> StatementsAsync(string cs, Func<Task> action) => server.StatementsAsync(cs, action);

    private static async Task<int> ReadAsync(PgSession session, CancellationToken ct = default)
        => await Resilient.ScalarAsync<int>(session, "SELECT n FROM world WHERE id = 7", ct);

    /// <summary>What raw Npgsql sends for the same reads: a connection per request from a data source, one command.</summary>
    private static async Task RawReadsAsync(NpgsqlDataSource raw, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await using NpgsqlConnection connection = await raw.OpenConnectionAsync();
            await using var command = new NpgsqlCommand("SELECT n FROM world WHERE id = 7", connection);
            Assert.Equal(7, (int)(await command.ExecuteScalarAsync())!);
        }
    }

    [PostgresFact]
    public async Task Scoped_session_that_only_reads_sends_what_raw_Npgsql_sends()
    {
        string cs = await WorldAsync("readscoped");
        using var metrics = new MetricCapture();
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs);
        await using NpgsqlDataSource raw = NpgsqlDataSource.Create(cs);
        await db.ExecuteAsync((s, ct) => ReadAsync(s, ct)); // both pools warm, type loading done
        await RawReadsAsync(raw, 1);

        Dictionary<string, long> dbcore = await StatementsAsync(cs, async () =>
        {
            for (int i = 0; i < 5; i++)
            {
                await using PgSession session = db.CreateSession(); // what the DI container injects per request
                Assert.Equal(7, await ReadAsync(session));
            }
        });
        Dictionary<string, long> rawNpgsql = await StatementsAsync(cs, () => RawReadsAsync(raw, 5));

        Assert.Equal(rawNpgsql.OrderBy(p => p.Key), dbcore.OrderBy(p => p.Key)); // no BEGIN, no ROLLBACK
        Assert.Equal(5, dbcore["SELECT n FROM world WHERE id = $1"]);
        Assert.Empty(metrics.For("dbcore.rollbacks", new NpgsqlConnectionStringBuilder(cs).Database!));
        Assert.Empty(logs.Named("SessionNotCommitted"));
    }

    [PostgresFact]
    public async Task Read_only_units_and_sessions_that_only_read_send_what_raw_Npgsql_sends_with_and_without_multiplexing()
    {
        string cs = await WorldAsync("readunits");
        foreach (bool multiplexing in new[] { false, true })
        {
            string connectionString = new NpgsqlConnectionStringBuilder(cs) { Multiplexing = multiplexing }.ConnectionString;
            await using Pg db = Resilient.Pg(connectionString);
            await using NpgsqlDataSource raw = NpgsqlDataSource.Create(connectionString);
            await db.ExecuteReadOnlyAsync((s, ct) => ReadAsync(s, ct));
            await RawReadsAsync(raw, 1);

            Dictionary<string, long> dbcore = await StatementsAsync(cs, async () =>
            {
                for (int i = 0; i < 3; i++)
                {
                    Assert.Equal(7, await db.ExecuteReadOnlyAsync((s, ct) => ReadAsync(s, ct)));
                    await using PgSession session = await db.OpenSessionAsync();
                    Assert.Equal(7, await ReadAsync(session));
                    await session.CommitAsync();
                }
            });
            Dictionary<string, long> rawNpgsql = await StatementsAsync(cs, () => RawReadsAsync(raw, 6));

            Assert.Equal(rawNpgsql.OrderBy(p => p.Key), dbcore.OrderBy(p => p.Key));
            Assert.Equal(6, dbcore["SELECT n FROM world WHERE id = $1"]);
        }
    }

    [PostgresFact]
    public async Task Retrying_unit_begins_its_transaction_with_the_first_statement_so_a_select_that_writes_is_applied_once()
    {
        string cs = await WorldAsync("selectwrites");
        await Resilient.AdminAsync(cs, """
            CREATE TABLE entries (id serial PRIMARY KEY);
            CREATE FUNCTION add_entry() RETURNS int LANGUAGE sql AS $$ INSERT INTO entries DEFAULT VALUES RETURNING id $$;
            """);
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.ScalarAsync<int>(session, "SELECT add_entry()", ct); // looks like a read to DbCore
            if (runs == 1)
            {
                await Resilient.NonQueryAsync(session, "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$", ct);
            }
        });

        Assert.Equal(2, runs);
        Assert.Equal(1L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM entries")); // the first run's entry rolled back
    }

    [PostgresFact]
    public async Task Write_unit_sends_begin_its_statements_and_commit()
    {
        string cs = await WorldAsync("writeunit");
        await using Pg db = Resilient.Pg(cs);
        await db.ExecuteAsync((s, ct) => ReadAsync(s, ct));

        Dictionary<string, long> statements = await StatementsAsync(cs, () => db.ExecuteAsync(async (session, ct) =>
        {
            await ReadAsync(session, ct);
            await Resilient.NonQueryAsync(session, "UPDATE world SET n = n + 1 WHERE id = 7", ct);
        }));

        // BEGIN goes out with the UPDATE (the first write), then COMMIT: two round trips after the read. The guard is the
        // transaction status the server sent with the UPDATE's answer, so no statement of its own.
        Assert.Equal(
            ["BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED", "COMMIT", "SELECT n FROM world WHERE id = $1", "UPDATE world SET n = n + $1 WHERE id = $2"],
            statements.Keys.Where(q => !q.StartsWith("--", StringComparison.Ordinal) && q != "DISCARD ALL").Order(StringComparer.Ordinal));
    }

    [PostgresFact]
    public async Task Reads_before_the_first_write_see_committed_data_and_everything_from_the_first_write_on_is_atomic()
    {
        string cs = await WorldAsync("readthenwrite");
        await using Pg db = Resilient.Pg(cs);

        await using (PgSession session = db.CreateSession()) // the scoped session of a request handler
        {
            Assert.Equal(10L, await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM world"));
            await Resilient.AdminAsync(cs, "INSERT INTO world VALUES (11, 11)"); // committed by someone else meanwhile
            // READ COMMITTED, as inside a transaction: every statement sees what was committed before it started.
            Assert.Equal(11L, await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM world"));
            await Resilient.NonQueryAsync(session, "INSERT INTO world VALUES (12, 12)");   // the transaction begins here
            Assert.Equal(12L, await Resilient.ScalarAsync<long>(session, "SELECT count(*) FROM world")); // sees its own write
            await Assert.ThrowsAsync<PostgresException>(() => Resilient.NonQueryAsync(session, "INSERT INTO world VALUES (1, 1)"));
        } // not committed: everything since the first write rolls back

        Assert.Equal(11L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM world"));
        Assert.Equal(0L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM world WHERE id = 12"));
    }

    [PostgresFact]
    public async Task Locking_read_begins_the_transaction_and_holds_its_lock_until_commit()
    {
        string cs = await WorldAsync("lockingread");
        await using Pg db = Resilient.Pg(cs);

        await using (PgSession session = db.CreateSession())
        {
            await Resilient.ScalarAsync<int>(session, "SELECT n FROM world WHERE id = 3 FOR UPDATE");
            var locked = await Assert.ThrowsAsync<PostgresException>(() => Resilient.AdminAsync(cs, "SELECT n FROM world WHERE id = 3 FOR UPDATE NOWAIT"));
            Assert.Equal("55P03", locked.SqlState);
            await session.CommitAsync();
        }

        Assert.Equal(3, await Resilient.AdminAsync(cs, "SELECT n FROM world WHERE id = 3 FOR UPDATE NOWAIT"));
    }

    [PostgresFact]
    public async Task Connection_used_directly_is_inside_the_unit_of_work()
    {
        string cs = await WorldAsync("rawconnection");
        await using Pg db = Resilient.Pg(cs, configure: s => s.Retry.MaxAttempts = 1);

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            // Another library writing through the connection (Dapper, EF Core): DbCore cannot see its SQL, so the
            // transaction begins when the connection is handed out.
            await using var command = new NpgsqlCommand("INSERT INTO world VALUES (20, 20)", session.Connection);
            await command.ExecuteNonQueryAsync(ct);
            throw new InvalidOperationException("business rule");
        }));

        Assert.Equal(0L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM world WHERE id = 20"));
    }

    [PostgresFact]
    public async Task Write_in_a_read_only_unit_still_fails_with_25006()
    {
        string cs = await WorldAsync("readonlywrite");
        await using Pg db = Resilient.Pg(cs);

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            await ReadAsync(session, ct);
            await Resilient.NonQueryAsync(session, "UPDATE world SET n = 0", ct);
        }));

        Assert.Equal("25006", ex.SqlState);
        Assert.Equal(0L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM world WHERE n = 0"));
    }
}
