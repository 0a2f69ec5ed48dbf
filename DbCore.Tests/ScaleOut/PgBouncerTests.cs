using DbCore.Tests.TestSettings;
using Npgsql;
using static DbCore.Tests.ScaleOut.ScaleOutSupport;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// The session scenarios through PgBouncer 1.18 in transaction mode, with one server connection per database, so two
/// accessors (two client connections) provably share one server backend. See docs/scale-out.md.
/// </summary>
[Collection(PgBouncerCollection.Name)]
public sealed class PgBouncerTests(PgBouncerFixture bouncer)
{
    /// <summary>The settings docs/scale-out.md recommends behind PgBouncer 1.18 in transaction mode.</summary>
    private static void Recommended(NpgsqlConnectionStringBuilder builder)
    {
        builder.NoResetOnClose = true;
        builder.MaxAutoPrepare = 0;
    }

    private async Task<(Pg First, Pg Second)> TwoAccessorsAsync(string prefix, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        string connectionString = await bouncer.CreateDatabaseAsync(prefix, configure ?? Recommended);
        Pg first = Pg(connectionString);
        Pg second = Pg(connectionString);
        await first.ExecuteAsync((session, ct) => NonQueryAsync(session, "CREATE TABLE items (id int PRIMARY KEY)", ct));
        return (first, second);
    }

    private static Task<long> CountAsync(Pg db) => db.ExecuteReadOnlyAsync((session, ct) => ScalarAsync<long>(session, "SELECT count(*) FROM items", ct));

    [PgBouncerFact]
    public async Task Commit_rollback_and_dispose_without_commit_pass_through_transaction_mode()
    {
        (Pg db, Pg other) = await TwoAccessorsAsync("bouncer_session");
        await using (db)
        await using (other)
        {
            await db.ExecuteAsync((session, ct) => NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct));
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
            {
                await NonQueryAsync(session, "INSERT INTO items VALUES (2)", ct);
                throw new InvalidOperationException("boom");
            }));
            await using (PgSession session = await db.OpenSessionAsync())
            {
                await NonQueryAsync(session, "INSERT INTO items VALUES (3)");
            }

            using (PgSession session = db.CreateSession())
            {
                await NonQueryAsync(session, "INSERT INTO items VALUES (4)");
            }

            Assert.Equal(1, await CountAsync(other));
            Assert.Equal(0, db.GetPoolStatistics().InUse);
            Assert.Equal(0, await IdleInTransactionAsync());
        }
    }

    [PgBouncerFact]
    public async Task Health_check_passes_through_PgBouncer()
    {
        Assert.StartsWith("PgBouncer 1.", bouncer.Version);
        await using Pg db = Pg(await bouncer.CreateDatabaseAsync("bouncer_health"));
        Assert.True(await db.CheckHealthAsync());
    }

    [PgBouncerFact]
    public async Task Set_local_stays_in_its_unit_of_work_but_a_plain_set_leaks_to_the_next_client()
    {
        (Pg first, Pg second) = await TwoAccessorsAsync("bouncer_set");
        await using (first)
        await using (second)
        {
            int firstPid = await first.ExecuteAsync(async (session, ct) =>
            {
                await NonQueryAsync(session, "SET LOCAL statement_timeout = '1234ms'", ct);
                return await ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct);
            });
            (int secondPid, string afterLocal) = await second.ExecuteAsync(async (session, ct)
                => (await ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct), await ScalarAsync<string>(session, "SHOW statement_timeout", ct)));

            Assert.Equal(firstPid, secondPid); // two clients, one server connection
            Assert.Equal("0", afterLocal);

            // A plain SET outlives the transaction on the server connection, and PgBouncer hands that connection to others.
            await first.ExecuteAsync((session, ct) => NonQueryAsync(session, "SET statement_timeout = '4321ms'", ct));
            string afterSet = await second.ExecuteAsync((session, ct) => ScalarAsync<string>(session, "SHOW statement_timeout", ct));
            Assert.Equal("4321ms", afterSet);
        }
    }

    [PgBouncerFact]
    public async Task Read_only_flag_is_transaction_scoped_through_PgBouncer()
    {
        (Pg db, Pg other) = await TwoAccessorsAsync("bouncer_ro");
        await using (db)
        await using (other)
        {
            DbCoreException ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteReadOnlyAsync((session, ct) => NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct)));
            Assert.Equal("25006", ex.SqlState);

            await other.ExecuteAsync((session, ct) => NonQueryAsync(session, "INSERT INTO items VALUES (2)", ct));
            Assert.Equal(1, await CountAsync(db));
        }
    }

    [PgBouncerFact]
    public async Task Commit_rollback_and_dispose_also_work_with_npgsql_defaults()
    {
        (Pg db, Pg other) = await TwoAccessorsAsync("bouncer_defaults", static _ => { });
        await using (db)
        await using (other)
        {
            await db.ExecuteAsync((session, ct) => NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct));
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
            {
                await NonQueryAsync(session, "INSERT INTO items VALUES (2)", ct);
                throw new InvalidOperationException("boom");
            }));
            await using (PgSession session = await db.OpenSessionAsync())
            {
                await NonQueryAsync(session, "INSERT INTO items VALUES (3)");
            }

            Assert.Equal(1, await CountAsync(other));
            Assert.True(await db.CheckHealthAsync());
        }
    }

    [PgBouncerFact]
    public async Task Repeated_parameterized_commands_work_with_auto_prepare_off()
    {
        (Pg first, Pg second) = await TwoAccessorsAsync("bouncer_noprep");
        await using (first)
        await using (second)
        {
            for (int i = 0; i < 10; i++)
            {
                Pg db = i % 2 == 0 ? first : second;
                await db.ExecuteAsync((session, ct) => InsertAsync(session, i, ct));
            }

            Assert.Equal(10, await CountAsync(first));
        }
    }

    [PgBouncerFact]
    public async Task Auto_prepared_statements_break_through_PgBouncer_1_18_transaction_mode()
    {
        (Pg first, Pg second) = await TwoAccessorsAsync("bouncer_prep", b =>
        {
            b.MaxAutoPrepare = 10;
            b.AutoPrepareMinUsages = 2;
            b.NoResetOnClose = true;
        });
        await using (first)
        await using (second)
        {
            // Each client prepares the same statement name (_auto1) on what is, behind PgBouncer, one server connection.
            await Assert.ThrowsAnyAsync<DbCoreException>(async () =>
            {
                for (int i = 0; i < 10; i++)
                {
                    Pg db = i % 2 == 0 ? first : second;
                    await db.ExecuteAsync((session, ct) => InsertAsync(session, i, ct));
                }
            });
        }
    }

    [PgBouncerFact]
    public async Task A_saturated_PgBouncer_pool_is_pool_exhaustion_named_after_PgBouncer_and_not_retried()
    {
        // The pooler's own pool is full (default_pool_size = 1, held by another client's open transaction) for its
        // query_wait_timeout (2 s in the fixture): PgBouncer answers "query_wait_timeout" and closes the client connection.
        // That is DbCore's pool exhaustion one level down: another attempt waits the whole timeout again on the same full pool.
        var (first, second) = await TwoAccessorsAsync("querywait");
        await using (first)
        await using (second)
        {
            Assert.Equal(0, await CountAsync(second)); // both connected (and their types loaded) before the pool fills
            await using PgSession holder = await first.OpenSessionAsync();
            await NonQueryAsync(holder, "INSERT INTO items VALUES (1)"); // begins the transaction: the one server connection is taken

            int attempts = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<PoolExhaustedException>(() => second.ExecuteAsync(async (session, ct) =>
            {
                attempts++;
                await NonQueryAsync(session, "INSERT INTO items VALUES (2)", ct);
            }));

            Assert.Equal(1, attempts);
            Assert.False(ex.IsTransient);
            Assert.Contains("PgBouncer", ex.Message, StringComparison.Ordinal);
            Assert.Contains("query_wait_timeout", ex.Message, StringComparison.Ordinal);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(4)); // one wait, not three
            await holder.CommitAsync();
        }
    }

    [PgBouncerFact]
    public async Task PgBouncers_query_timeout_is_a_command_timeout_and_not_retried()
    {
        // query_timeout (3 s in the fixture) is PgBouncer's statement timeout: it ends a statement that ran too long and
        // closes the client connection. Like DbCore's own command timeout, running it again would most likely time out again.
        var (first, second) = await TwoAccessorsAsync("querytimeout");
        await using (first)
        await using (second)
        {
            int attempts = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<CommandTimeoutException>(() => first.ExecuteAsync(async (session, ct) =>
            {
                attempts++;
                await NonQueryAsync(session, "SELECT pg_sleep(6)", ct);
            }));

            Assert.Equal(1, attempts);
            Assert.False(ex.IsTransient);
            Assert.Equal("08P01", ex.SqlState);
            Assert.Contains("query_timeout", ex.Message, StringComparison.Ordinal);
            Assert.Equal("query timeout", Assert.IsType<PostgresException>(ex.InnerException).MessageText); // PgBouncer 1.18's text
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(5.5)); // one timeout, not three
            Assert.Equal(0, await CountAsync(second)); // PgBouncer and its server connection still serve the next client
        }
    }

    private static async Task InsertAsync(PgSession session, int id, CancellationToken ct)
    {
        await using NpgsqlCommand command = session.CreateCommand("INSERT INTO items VALUES (@id)");
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Server backends of ours left idle in a transaction, asked directly on the server (not through PgBouncer).</summary>
    private async Task<long> IdleInTransactionAsync()
    {
        await using var connection = new NpgsqlConnection(bouncer.Server.BuildConnectionString("postgres", pooling: false));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
