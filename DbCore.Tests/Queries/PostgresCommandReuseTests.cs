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
        var todos = new List<Todo>();
        for (int i = 0; i < 40; i++)
        {
            todos.Add(await db.ExecuteAsync((s, ct) => s.InsertAsync("t" + i, i % 2 == 0, Priority.Low, null, ct)));
        }

        // 32 workers, each on a new session per call, interleaving two methods with one and two parameters: a kept command
        // that two calls shared, or that kept an earlier call's value or connection, returns another call's row or fails.
        int mismatches = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            for (int n = 0; n < 60; n++)
            {
                Todo expected = todos[(worker * 7 + n) % todos.Count];
                await using (QueryPgSession session = db.CreateSession())
                {
                    if (await session.FindAsync(expected.Id) != expected)
                    {
                        Interlocked.Increment(ref mismatches);
                    }
                }

                List<Todo> repeated = await db.ExecuteReadOnlyAsync((s, ct) => s.RepeatedAsync(expected.Title, expected.Id - 1, ct));
                if (repeated.Count != 1 || repeated[0] != expected)
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })));

        Assert.Equal(0, mismatches);
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

    /// <summary>"kept", built at run time (a literal is interned and never collected).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string FreshTitle() => new string('k', 1) + "ept";
}
