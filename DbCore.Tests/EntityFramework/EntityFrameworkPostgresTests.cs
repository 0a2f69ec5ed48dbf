using DbCore.Tests.Infrastructure;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace DbCore.Tests.EntityFramework;

/// <summary>
/// EF Core inside a DbCore unit on a real PostgreSQL: one line builds the context on the session's connection and
/// transaction, SaveChanges commits and rolls back with the unit, and its errors are typed and retried like ADO.NET's.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class EntityFrameworkPostgresTests(PostgresServer server)
{
    private static ShopContext Shop(DbSession session) => session.CreateDbContext<ShopContext>(options => new(options));

    [PostgresFact]
    public async Task EF_and_ADO_work_in_one_unit_commit_together()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "ef_commit");
        await using Pg db = Resilient.Pg(cs);

        await db.ExecuteAsync(async (session, ct) =>
        {
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);

            Assert.Equal(2, await shop.Orders.CountAsync(ct));           // one transaction: EF sees the ADO.NET row
            Assert.Equal(0L, await Resilient.CountOrdersAsync(cs));      // and nothing is committed before the unit
        });

        Assert.Equal(2L, await Resilient.CountOrdersAsync(cs));
    }

    [PostgresFact]
    public async Task Exception_in_the_unit_rolls_back_EF_and_ADO_work()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "ef_rollback");
        await using Pg db = Resilient.Pg(cs);

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
            throw new InvalidOperationException("the handler failed after saving");
        }));

        Assert.Equal(0L, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Unique_violation_inside_SaveChanges_is_a_UniqueViolationException_with_attempts()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "ef_unique", seed: "INSERT INTO orders VALUES (1)");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        var ex = await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct); // EF throws DbUpdateException around the PostgresException
        }));

        Assert.Equal(1, runs); // not transient: not retried
        Assert.Equal(1, ex.Attempts);
        Assert.Equal("23505", ex.SqlState);
        Assert.Equal("orders_pkey", ex.ConstraintName);
        Assert.IsType<PostgresException>(ex.InnerException);
    }

    [PostgresFact]
    public async Task Real_serialization_failure_inside_SaveChanges_is_retried()
    {
        // Two SERIALIZABLE units read the same counter through EF, wait until both have read, then increment it: the
        // second UPDATE waits for the first unit's row lock and PostgreSQL answers it with 40001 once that unit commits.
        string cs = await server.CreateDatabaseAsync("ef_40001");
        await Resilient.AdminAsync(cs, "CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL); INSERT INTO counters VALUES (1, 0)");
        using var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs);
        int runs = 0, readers = 0;
        var bothRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task Increment() => db.ExecuteAsync(async (session, ct) =>
        {
            Interlocked.Increment(ref runs);
            await Resilient.NonQueryAsync(session, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", ct);
            await using ShopContext shop = Shop(session);
            Counter counter = await shop.Counters.SingleAsync(c => c.Id == 1, ct);
            if (Interlocked.Increment(ref readers) == 2)
            {
                bothRead.SetResult();
            }

            await bothRead.Task.WaitAsync(TimeSpan.FromSeconds(30), ct); // the barrier: completed for every later run
            counter.Value++;
            await shop.SaveChangesAsync(ct);
        });

        await Task.WhenAll(Increment(), Increment());

        Assert.Equal(3, runs); // one unit ran twice
        Assert.Equal(2, await Resilient.AdminAsync(cs, "SELECT value FROM counters WHERE id = 1"));
        LogRecord retry = Assert.Single(logs.Named("Retrying"));
        Assert.Equal(nameof(SerializationFailureException), retry["ErrorType"]);
        Assert.Equal("40001", retry["SqlState"]);
    }

    [PostgresFact]
    public async Task EF_retrying_execution_strategy_is_refused_inside_a_unit()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "ef_strategy");
        await using Pg db = Resilient.Pg(cs);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await using ShopContext shop = session.CreateDbContext<ShopContext>(
                options => new(options),
                static builder => builder.UseNpgsql(npgsql => npgsql.EnableRetryOnFailure()));
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
        }));

        Assert.Contains("retrying EF Core execution strategy", ex.Message);
        Assert.Equal(0L, await Resilient.CountOrdersAsync(cs));
    }
}
