using System.Runtime.CompilerServices;
using DbCore.Errors;
using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.Queries;

/// <summary>
/// Generated PostgreSQL query methods keep their command and its parameters in a per-thread field between calls
/// (<c>DbSession.RentCommand</c>), on PostgreSQL (a real server), plain and multiplexed: every call gets its own arguments
/// and the session's connection, a failed call drops its command, and a kept command keeps none of a call's arguments alive.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresCommandReuseTests(PostgresServer server)
{
    private async Task<QueryPg> CreateAsync(string name, string options = "")
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync(name);
        return await TodoSchema.CreateAsync<QueryPg, QueryPgSession>(new QueryPg(new QueryPgSettings { ConnectionString = cs + options }, "Production"), TodoSchema.PostgreSql);
    }

    [PostgresTheory]
    [InlineData("")]
    [InlineData(";Multiplexing=true")]
    public async Task Concurrent_calls_on_new_sessions_each_read_their_own_arguments(string options)
    {
        await using QueryPg db = await CreateAsync("reuse" + (options.Length == 0 ? "plain" : "mux"), options);
        List<Todo> todos = await ReuseScenario.InsertAsync((title, done) => db.ExecuteAsync((s, ct) => s.InsertAsync(title, done, Priority.Low, null, ct)));

        // Two methods with one and two parameters, the first on the scoped session.
        await ReuseScenario.AssertEveryCallReadsItsOwnAsync(todos, async expected =>
        {
            await using QueryPgSession session = db.CreateSession();
            return await session.FindAsync(expected.Id) == expected;
        }, async expected =>
        {
            List<Todo> repeated = await db.ExecuteReadOnlyAsync((s, ct) => s.RepeatedAsync(expected.Title, expected.Id - 1, ct));
            return repeated.Count == 1 && repeated[0] == expected;
        });
    }

    [PostgresFact]
    public async Task A_call_that_failed_drops_its_command_and_later_calls_work()
    {
        await using QueryPg db = await CreateAsync("reusefail");
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));

        for (int round = 0; round < 3; round++)
        {
            // The server's error, DbCore's own result error after the reader, and a cancellation while the statement runs.
            await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct)));
            await Assert.ThrowsAsync<QueryResultException>(() => db.ExecuteReadOnlyAsync((s, ct) => s.DetailsAsync(-1, ct)));
            using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100)))
            {
                await using QueryPgSession sleeping = db.CreateSession();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeping.SleepAsync(30, cancel.Token));
            }

            Todo b = await db.ExecuteAsync((s, ct) => s.InsertAsync("b" + round, true, Priority.High, null, ct));
            Assert.Equal(b, await db.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(b.Id, ct)));
            Assert.Equal("a", (await db.ExecuteReadOnlyAsync((s, ct) => s.DetailsAsync(a.Id, ct))).Title);
            Assert.Equal(1L, await db.ExecuteReadOnlyAsync((s, ct) => s.SleepAsync(0, ct)));
        }

        // The failed insert rolled back; the three others committed.
        Assert.Equal(4, (await db.ExecuteReadOnlyAsync((s, ct) => s.AllIdsAsync(ct))).Ids!.Length);
    }

    [PostgresFact]
    public async Task A_kept_command_keeps_no_argument_of_the_call_alive()
    {
        await using QueryPg db = await CreateAsync("reuseargs");
        await db.ExecuteAsync((s, ct) => s.InsertAsync("kept", false, Priority.Low, null, ct));

        // The per-thread field is a GC root on whichever thread the call ended: an argument that the kept command's
        // parameter still held would survive the collections (it does with the generated clearing removed). The arguments
        // are made inside the work, so that no frame of the test itself holds them.
        for (int round = 0; round < 3; round++)
        {
            WeakReference? title = null;
            WeakReference? titles = null;
            Assert.Single(await db.ExecuteReadOnlyAsync((s, ct) =>
            {
                string fresh = FreshTitle();
                title = new WeakReference(fresh);
                return s.RepeatedAsync(fresh, 0, ct);
            }));
            Assert.Single(await db.ExecuteReadOnlyAsync((s, ct) =>
            {
                var fresh = new List<string> { "kept" };
                titles = new WeakReference(fresh);
                return s.ByTitlesAsync(fresh, ct);
            }));
            for (int i = 0; i < 3 && (title!.IsAlive || titles!.IsAlive); i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.False(title!.IsAlive, "a kept command holds the string argument of the last call");
            Assert.False(titles!.IsAlive, "a kept command holds the list argument of the last call");
        }
    }

    [PostgresFact]
    public async Task With_auto_preparation_a_kept_command_is_prepared_again_after_its_statement_was_evicted()
    {
        // One connection, room for two auto-prepared statements (review of 1e34c7c, F2): A is prepared, then B and C, whose
        // second calls evict A (the least recently used); then A runs ten times. A command that kept its preparation state
        // from before the eviction ran unprepared from then on (Npgsql took it for explicitly prepared on that connection),
        // so A never came back; a command per call, as raw code makes, gets A prepared again. The check's own statement is
        // prepared too and evicts the least recently used one, which is not A when A ran last.
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("reuseprepare");
        var settings = new QueryPgSettings { ConnectionString = cs + ";Max Auto Prepare=2;Auto Prepare Min Usages=1" };
        settings.Pool.Size = 1;
        settings.Pool.MaxOverflow = 0;
        await using QueryPg db = await TodoSchema.CreateAsync<QueryPg, QueryPgSession>(new QueryPg(settings, "Production"), TodoSchema.PostgreSql);
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));

        Assert.Equal(a, await db.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(a.Id, ct)));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal("a", (await db.ExecuteReadOnlyAsync((s, ct) => s.DetailsAsync(a.Id, ct))).Title);
            Assert.Equal([a.Id], (await db.ExecuteReadOnlyAsync((s, ct) => s.AllIdsAsync(ct))).Ids!);
        }

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(a, await db.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(a.Id, ct)));
        }

        List<string> prepared = await db.ExecuteReadOnlyAsync(async (s, ct) =>
        {
            await using var command = s.CreateCommand("SELECT statement FROM pg_prepared_statements ORDER BY statement");
            await using var reader = await command.ExecuteReaderAsync(ct);
            var statements = new List<string>();
            while (await reader.ReadAsync(ct))
            {
                statements.Add(reader.GetString(0));
            }

            return statements;
        });
        Assert.Contains("SELECT id, title, done FROM todos WHERE id = $1", prepared);
    }

    /// <summary>"kept", built at run time (a literal is interned and never collected).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string FreshTitle() => new string('k', 1) + "ept";
}

/// <summary>
/// The same for query methods whose provider is chosen at run time (<c>Auto</c>, what the README's settings class gets):
/// on PostgreSQL they keep their command the same way.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresAutoCommandReuseTests(PostgresServer server)
{
    private async Task<QueryAny> CreateAsync(string name, string options = "")
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync(name);
        return await TodoSchema.CreateAsync(new QueryAny(new QueryAnySettings { ConnectionString = cs + options }, "Production"), TodoSchema.PostgreSql);
    }

    [PostgresTheory]
    [InlineData("")]
    [InlineData(";Multiplexing=true")]
    public async Task Concurrent_calls_on_new_sessions_each_read_their_own_arguments(string options)
    {
        await using QueryAny db = await CreateAsync("autoreuse" + (options.Length == 0 ? "plain" : "mux"), options);
        List<Todo> todos = await ReuseScenario.InsertAsync((title, done) => db.ExecuteAsync((s, ct) => s.InsertAsync(title, done, Priority.Low, null, ct)));
        await ReuseScenario.AssertEveryCallReadsItsOwnAsync(todos, async expected =>
        {
            await using QueryAnySession session = db.CreateSession();
            return await session.FindAsync(expected.Id) == expected;
        }, async expected => await db.ExecuteReadOnlyAsync((s, ct) => s.TitleAsync(expected.Id, ct)) == expected.Title);
    }

    [PostgresFact]
    public async Task A_call_that_failed_drops_its_command_and_later_calls_work()
    {
        await using QueryAny db = await CreateAsync("autoreusefail");
        Todo a = await db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct));
        for (int round = 0; round < 3; round++)
        {
            // The server's error, and DbCore's own result error after the reader (a one-row method, two rows).
            await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync((s, ct) => s.InsertAsync("a", false, Priority.Low, null, ct)));
            Todo b = await db.ExecuteAsync((s, ct) => s.InsertAsync("b" + round, true, Priority.High, null, ct));
            await Assert.ThrowsAsync<QueryResultException>(() => db.ExecuteReadOnlyAsync((s, ct) => s.FirstOfManyAsync(ct)));
            Assert.Equal(b, await db.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(b.Id, ct)));
            Assert.Equal(1L, await db.ExecuteReadOnlyAsync((s, ct) => s.CountAsync("a", ct)));
        }
    }

    [PostgresFact]
    public async Task A_kept_command_keeps_no_argument_of_the_call_alive()
    {
        await using QueryAny db = await CreateAsync("autoreuseargs");
        await db.ExecuteAsync((s, ct) => s.InsertAsync("kept", false, Priority.Low, null, ct));
        for (int round = 0; round < 3; round++)
        {
            await ReuseScenario.AssertNoArgumentKeptAsync(fresh => db.ExecuteReadOnlyAsync((s, ct) => s.CountAsync(fresh(), ct)));
        }
    }
}

/// <summary>The scenarios both kinds of query method run, on both providers.</summary>
internal static class ReuseScenario
{
    /// <summary>
    /// Runs <paramref name="count"/> (one row titled "kept" expected) with a string argument made inside the work by the
    /// function it gets, so that no frame of the test holds it, then checks that nothing keeps that string alive (a kept
    /// command is a GC root on whichever thread, or connection, it waits).
    /// </summary>
    public static async Task AssertNoArgumentKeptAsync(Func<Func<string>, Task<long>> count)
    {
        WeakReference? weak = null;
        Assert.Equal(1L, await count(() =>
        {
            string fresh = new string('k', 1) + "ept"; // built at run time: a literal is interned and never collected
            weak = new WeakReference(fresh);
            return fresh;
        }));
        for (int i = 0; i < 3 && weak!.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(weak!.IsAlive, "a kept command holds the string argument of the last call");
    }

    /// <summary>40 rows, titles t0..t39.</summary>
    public static async Task<List<Todo>> InsertAsync(Func<string, bool, Task<Todo>> insert)
    {
        var todos = new List<Todo>();
        for (int i = 0; i < 40; i++)
        {
            todos.Add(await insert("t" + i, i % 2 == 0));
        }

        return todos;
    }

    /// <summary>
    /// 32 workers, 60 rounds each, each call on a new session, interleaving two checks (each true when its call read the
    /// expected row): a kept command that two calls shared, or that kept an earlier call's value or connection, returns
    /// another call's row or fails.
    /// </summary>
    public static async Task AssertEveryCallReadsItsOwnAsync(List<Todo> todos, Func<Todo, Task<bool>> first, Func<Todo, Task<bool>> second)
    {
        int mismatches = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            for (int n = 0; n < 60; n++)
            {
                Todo expected = todos[(worker * 7 + n) % todos.Count];
                if (!await first(expected))
                {
                    Interlocked.Increment(ref mismatches);
                }

                if (!await second(expected))
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })));

        Assert.Equal(0, mismatches);
    }
}
