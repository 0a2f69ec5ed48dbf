using DbCore.Tests.Queries;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// Typed queries through PgBouncer 1.18 in transaction mode, where two accessors share one server backend: a query method
/// keeps its command between calls, and prepares nothing on the server, so interleaved clients each get their own rows
/// (what <c>Auto_prepared_statements_break_through_PgBouncer_1_18_transaction_mode</c> shows going wrong when statements are
/// prepared). A pin: it guards the choice not to prepare typed queries (docs/performance.md, "What would shorten that round
/// trip").
/// </summary>
[Collection(PgBouncerCollection.Name)]
public sealed class PgBouncerQueryTests(PgBouncerFixture bouncer)
{
    [PgBouncerFact]
    public async Task Interleaved_typed_queries_of_two_clients_each_get_their_own_rows_and_prepare_nothing()
    {
        string cs = await bouncer.CreateDatabaseAsync("bouncer_queries", b => b.NoResetOnClose = true);
        await using QueryPg first = await TodoSchema.CreateAsync<QueryPg, QueryPgSession>(new QueryPg(new QueryPgSettings { ConnectionString = cs }, "Production"), TodoSchema.PostgreSql);
        await using QueryAny second = new(new QueryAnySettings { ConnectionString = cs }, "Production");

        // Each of 8 workers alternates the two accessors (the pinned and the Auto generated code), writing and reading its
        // own rows; every call runs on whatever server connection PgBouncer hands out, which is the same one.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (int i = 0; i < 12; i++)
            {
                string title = $"w{worker}-{i}";
                Priority priority = (worker + i) % 2 == 0 ? Priority.High : Priority.Low;
                Todo inserted = i % 2 == 0
                    ? await first.ExecuteAsync((s, ct) => s.InsertAsync(title, i % 3 == 0, priority, null, ct))
                    : await second.ExecuteAsync((s, ct) => s.InsertAsync(title, i % 3 == 0, priority, null, ct));
                Assert.Equal(title, inserted.Title);
                Assert.Equal(inserted, await first.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(inserted.Id, ct)));
                Assert.Equal(inserted, await second.ExecuteReadOnlyAsync((s, ct) => s.FindAsync(inserted.Id, ct)));
                Assert.Equal([inserted], await first.ExecuteReadOnlyAsync((s, ct) => s.ByTitlesAsync([title, "none"], ct)));
            }
        })));

        Assert.Equal(96, (await second.ExecuteReadOnlyAsync((s, ct) => s.ListAsync(ct))).Count);
        // Through PgBouncer: the one server connection of this database, the backend every call above ran on.
        long prepared = await first.ExecuteReadOnlyAsync(async (s, ct) =>
        {
            await using var command = s.CreateCommand("SELECT count(*) FROM pg_prepared_statements");
            return (long)(await command.ExecuteScalarAsync(ct))!;
        });
        Assert.Equal(0L, prepared);
    }
}
