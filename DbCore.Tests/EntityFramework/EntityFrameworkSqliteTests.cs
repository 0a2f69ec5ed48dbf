using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace DbCore.Tests.EntityFramework;

/// <summary>EF Core inside a DbCore unit on a SQLite file: the same one line, the same transaction rules.</summary>
public sealed class EntityFrameworkSqliteTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-ef-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<Local> OrdersDatabaseAsync(string name, string? seed = null)
    {
        var db = new Local(new LocalSettings { ConnectionString = ConnectionString(name) }, "Production");
        await db.ExecuteAsync(async (session, ct) =>
        {
            await using SqliteCommand create = session.CreateCommand("CREATE TABLE orders (id INTEGER PRIMARY KEY); " + seed);
            await create.ExecuteNonQueryAsync(ct);
        });
        return db;
    }

    private string ConnectionString(string name) => $"Data Source={Path.Combine(_directory, name + ".db")}";

    /// <summary>Counts committed orders on a connection of its own, outside DbCore.</summary>
    private long CommittedOrders(string name)
    {
        using var connection = new SqliteConnection(ConnectionString(name) + ";Pooling=False");
        connection.Open();
        using SqliteCommand count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM orders";
        return (long)count.ExecuteScalar()!;
    }

    private static ShopContext Shop(DbSession session) => session.CreateDbContext<ShopContext>(options => new(options));

    private static async Task InsertAsync(LocalSession session, int id, CancellationToken ct)
    {
        await using SqliteCommand insert = session.CreateCommand("INSERT INTO orders VALUES ($id)");
        insert.Parameters.AddWithValue("$id", id);
        await insert.ExecuteNonQueryAsync(ct);
    }

    [Fact]
    public async Task EF_and_ADO_work_in_one_unit_commit_together()
    {
        await using Local db = await OrdersDatabaseAsync("commit");

        await db.ExecuteAsync(async (session, ct) =>
        {
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
            await InsertAsync(session, 2, ct);

            Assert.Equal(2, await shop.Orders.CountAsync(ct)); // one transaction
            Assert.Equal(0L, CommittedOrders("commit"));       // a WAL reader sees the last committed state
        });

        Assert.Equal(2L, CommittedOrders("commit"));
    }

    [Fact]
    public async Task Exception_in_the_unit_rolls_back_EF_and_ADO_work()
    {
        await using Local db = await OrdersDatabaseAsync("rollback");

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
            await InsertAsync(session, 2, ct);
            throw new InvalidOperationException("the handler failed after saving");
        }));

        Assert.Equal(0L, CommittedOrders("rollback"));
    }

    [Fact]
    public async Task Unique_violation_inside_SaveChanges_is_a_UniqueViolationException_with_attempts()
    {
        await using Local db = await OrdersDatabaseAsync("unique", seed: "INSERT INTO orders VALUES (1)");
        int runs = 0;

        var ex = await Assert.ThrowsAsync<UniqueViolationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            await using ShopContext shop = Shop(session);
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync(ct);
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, ex.Attempts);
        Assert.Equal("1555", ex.SqlState); // SQLITE_CONSTRAINT_PRIMARYKEY
        Assert.Equal("orders", ex.TableName);
        Assert.IsType<SqliteException>(ex.InnerException);
    }

    [Fact]
    public async Task A_scoped_session_opened_by_CreateDbContextAsync_commits_EF_work()
    {
        await using Local db = await OrdersDatabaseAsync("scoped");

        await using (LocalSession session = db.CreateSession()) // not open yet, as the container injects it
        {
            await using ShopContext shop = await session.CreateDbContextAsync<ShopContext>(options => new(options));
            shop.Orders.Add(new Order { Id = 1 });
            await shop.SaveChangesAsync();
            await session.CommitAsync();
        }

        await using (LocalSession session = db.CreateSession())
        {
            await using ShopContext shop = await session.CreateDbContextAsync<ShopContext>(options => new(options));
            shop.Orders.Add(new Order { Id = 2 });
            await shop.SaveChangesAsync();
        } // disposed without commit: rolled back

        Assert.Equal(1L, CommittedOrders("scoped"));
    }

    [Fact]
    public async Task Options_are_built_once_per_context_type_provider_and_configure_delegate()
    {
        await using Local db = await OrdersDatabaseAsync("options");
        int configured = 0;

        Task<IDbContextOptions> OptionsOf(Action<DbContextOptionsBuilder<ShopContext>>? configure) => db.ExecuteAsync((session, _) =>
        {
            using ShopContext shop = session.CreateDbContext<ShopContext>(options => new(options), configure);
            return Task.FromResult(shop.GetService<IDbContextOptions>());
        });

        Action<DbContextOptionsBuilder<ShopContext>> counting = _ => configured++;

        Assert.Same(await OptionsOf(null), await OptionsOf(null));
        Assert.Same(await OptionsOf(counting), await OptionsOf(counting));
        Assert.Equal(1, configured);
        Assert.NotSame(await OptionsOf(null), await OptionsOf(counting));
    }
}
