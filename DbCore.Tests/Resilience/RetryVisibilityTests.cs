using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>
/// Retry is visible and never multiplies: the exception says how many times the unit ran, a unit nested in another unit is
/// not retried by both, and a provider error inside another library's wrapper (EF Core) is typed and retried like a direct one.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RetryVisibilityTests(PostgresServer server)
{
    private const string SerializationFailure = "DO $$ BEGIN RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001'; END $$";

    [PostgresFact]
    public async Task Exhausted_retries_say_how_many_times_the_unit_ran()
    {
        string cs = await server.CreateDatabaseAsync("attempts");
        await using Pg db = Resilient.Pg(cs); // Production: 3 attempts
        int runs = 0;

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await Resilient.NonQueryAsync(session, SerializationFailure, ct);
        }));

        Assert.Equal(3, runs);
        Assert.Equal(3, ex.Attempts);
    }

    [PostgresFact]
    public async Task Unit_nested_in_another_accessors_unit_is_not_retried_twice()
    {
        string cs = await server.CreateDatabaseAsync("nested");
        await using Pg outer = Resilient.Pg(cs);
        await using Pg inner = Resilient.Pg(cs);
        int outerRuns = 0, innerRuns = 0;

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(() => outer.ExecuteAsync(async (_, ct) =>
        {
            outerRuns++;
            await inner.ExecuteAsync(async (session, innerCt) =>
            {
                innerRuns++;
                await Resilient.NonQueryAsync(session, SerializationFailure, innerCt);
            }, ct);
        }));

        Assert.Equal(3, outerRuns);
        Assert.Equal(3, innerRuns); // not 3 x 3
        Assert.Equal(3, ex.Attempts);
    }

    [PostgresFact]
    public async Task Outer_unit_is_not_rerun_once_a_nested_unit_committed()
    {
        string cs = await server.CreateDatabaseAsync("nestedcommit");
        await Resilient.AdminAsync(cs, "CREATE TABLE audit (id serial PRIMARY KEY)");
        await using Pg outer = Resilient.Pg(cs);
        await using Pg audit = Resilient.Pg(cs);
        int outerRuns = 0;

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(() => outer.ExecuteAsync(async (session, ct) =>
        {
            outerRuns++;
            await audit.ExecuteAsync((a, innerCt) => Resilient.NonQueryAsync(a, "INSERT INTO audit DEFAULT VALUES", innerCt), ct);
            await Resilient.NonQueryAsync(session, SerializationFailure, ct); // transient, but rerunning would audit twice
        }));

        Assert.Equal(1, outerRuns);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal(1L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM audit"));
    }

    [PostgresFact]
    public async Task Unit_nested_in_a_flow_without_async_locals_is_not_retried_twice()
    {
        // A flow that carries no async-local value (a background worker): nesting must still be seen, and the mark must
        // not outlive the unit.
        string cs = await server.CreateDatabaseAsync("nested_default");
        await using Pg outer = Resilient.Pg(cs);
        await using Pg inner = Resilient.Pg(cs);
        Task<string> run;
        using (ExecutionContext.SuppressFlow())
        {
            run = Task.Run(async () =>
            {
                var seen = new List<string>();
                for (int round = 0; round < 3; round++)
                {
                    int outerRuns = 0, innerRuns = 0;
                    await Assert.ThrowsAsync<SerializationFailureException>(() => outer.ExecuteAsync(async (_, ct) =>
                    {
                        outerRuns++;
                        await inner.ExecuteAsync(async (session, innerCt) =>
                        {
                            innerRuns++;
                            await Resilient.NonQueryAsync(session, SerializationFailure, innerCt);
                        }, ct);
                    }));
                    seen.Add($"{outerRuns}x{innerRuns}");
                    await Task.Delay(50);
                }

                return string.Join(" ", seen);
            });
        }

        Assert.Equal("3x3 3x3 3x3", await run);
    }

    [PostgresFact]
    public async Task Provider_error_wrapped_by_the_work_is_typed_and_retried()
    {
        string cs = await server.CreateDatabaseAsync("wrapped");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        var ex = await Assert.ThrowsAsync<SerializationFailureException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            try
            {
                await Resilient.NonQueryAsync(session, SerializationFailure, ct);
            }
            catch (PostgresException pg)
            {
                throw new InvalidOperationException("the repository failed", pg);
            }
        }));

        Assert.Equal(3, runs);
        Assert.IsType<PostgresException>(ex.InnerException);
    }

    [PostgresFact]
    public async Task EF_Core_unique_violation_inside_a_unit_is_typed()
    {
        string cs = await server.CreateDatabaseAsync("efunique");
        await Resilient.AdminAsync(cs, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1)");
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        var ex = await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await using Shop shop = await Shop.OnAsync(session, ct);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct); // DbUpdateException around the PostgresException
        }));

        Assert.Equal(1, runs);
        Assert.Equal("orders_pkey", ex.ConstraintName);
        Assert.Equal("23505", ex.SqlState);
    }

    [PostgresFact]
    public async Task EF_Core_serialization_failure_inside_SaveChanges_is_retried()
    {
        string cs = await server.CreateDatabaseAsync("efretry");
        await Resilient.AdminAsync(cs, """
            CREATE TABLE orders (id int PRIMARY KEY);
            CREATE TABLE failures (failing bool NOT NULL);
            INSERT INTO failures VALUES (true);
            CREATE FUNCTION conflict_while_failing() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT failing FROM failures) THEN
                    RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER orders_conflict BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION conflict_while_failing();
            """);
        await using Pg db = Resilient.Pg(cs);
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            if (runs == 3)
            {
                await Resilient.NonQueryAsync(session, "UPDATE failures SET failing = false", ct);
            }

            await using Shop shop = await Shop.OnAsync(session, ct);
            shop.Orders.Add(new Order { Id = 7 });
            await shop.SaveChangesAsync(ct);
        });

        Assert.Equal(3, runs);
        Assert.Equal(1L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM orders WHERE id = 7"));
    }

    private sealed class Shop(DbContextOptions<Shop> options) : DbContext(options)
    {
        public DbSet<Order> Orders => Set<Order>();

        public static async Task<Shop> OnAsync(PgSession session, CancellationToken ct)
        {
            var shop = new Shop(new DbContextOptionsBuilder<Shop>().UseNpgsql(session.Connection).Options);
            await shop.Database.UseTransactionAsync(session.Transaction, ct);
            return shop;
        }

        protected override void OnModelCreating(ModelBuilder modelBuilder)
            => modelBuilder.Entity<Order>(order =>
            {
                order.ToTable("orders");
                order.Property(o => o.Id).HasColumnName("id").ValueGeneratedNever();
            });
    }

    private sealed class Order
    {
        public int Id { get; set; }
    }
}
