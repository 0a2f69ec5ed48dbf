using System.Security.Cryptography;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Resilience;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DbCore.Tests.Integrations;

public enum Mood
{
    Sad,
    Ok,
    Happy,
}

/// <summary>Provider hooks: the NpgsqlDataSourceBuilder and new SQLite connections are the application's to configure.</summary>
public sealed class SqliteProviderHooksTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-hooks-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private LocalSettings Settings(string name) => new() { ConnectionString = $"Data Source={Path.Combine(_directory, name + ".db")}" };

    private static async Task<long> DoubleAsync(LocalSession session, long value, CancellationToken ct = default)
    {
        await using SqliteCommand command = session.CreateCommand("SELECT dbcore_double($v)");
        command.Parameters.AddWithValue("$v", value);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    [Fact]
    public async Task A_function_registered_on_open_is_usable_in_every_session()
    {
        int created = 0;
        var hooks = new ProviderHooks
        {
            OnSqliteConnectionOpened = connection =>
            {
                Interlocked.Increment(ref created);
                connection.CreateFunction("dbcore_double", (long x) => x * 2);
            },
        };
        await using var db = new Local(Settings("function"), "Production", hooks: hooks);

        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(2L * i, await db.ExecuteAsync((s, ct) => DoubleAsync(s, i, ct)));
        }

        // Once per connection: a SQLite file's connections stay open between sessions (with their functions), so five
        // sessions one after another ran the hook once.
        Assert.Equal(1, created);

        // Two read-only sessions at once: two more connections (the read-only pool's), each with the function.
        await using LocalSession first = await db.OpenReadOnlySessionAsync();
        await using LocalSession second = await db.OpenReadOnlySessionAsync();
        Assert.Equal(8L, await DoubleAsync(first, 4));
        Assert.Equal(10L, await DoubleAsync(second, 5));
        Assert.Equal(3, created);
    }

    [Fact]
    public async Task A_failing_hook_fails_the_open_and_returns_the_connection()
    {
        var hooks = new ProviderHooks { OnSqliteConnectionOpened = _ => throw new InvalidOperationException("extension missing") };
        await using var db = new Local(Settings("failing"), "Production", hooks: hooks);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync((s, ct) => DoubleAsync(s, 1, ct)));
        Assert.Equal("extension missing", ex.Message);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [Fact]
    public async Task A_connection_whose_hook_threw_is_closed_not_handed_to_the_next_session()
    {
        // The hook fails after a change it made (a function registered); that half-set connection must not serve the next
        // session as if the hook had run.
        var opened = new List<SqliteConnection>();
        var hooks = new ProviderHooks
        {
            OnSqliteConnectionOpened = connection =>
            {
                connection.CreateFunction("dbcore_double", (long x) => x * 2);
                opened.Add(connection);
                if (opened.Count == 1)
                {
                    throw new InvalidOperationException("second step failed");
                }
            },
        };
        await using var db = new Local(Settings("half"), "Production", hooks: hooks);
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync((s, ct) => DoubleAsync(s, 1, ct)));
        Assert.Equal(4L, await db.ExecuteAsync((s, ct) => DoubleAsync(s, 2, ct)));

        Assert.Equal(2, opened.Count); // the hook ran again, on a new connection
        Assert.NotSame(opened[0], opened[1]);
        Assert.Equal(System.Data.ConnectionState.Closed, opened[0].State);
    }

    [Fact]
    public async Task Hooks_registered_in_the_container_see_the_service_provider_and_apply_in_order()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new FunctionName("dbcore_double"));
        services.AddLocal(configure: s => s.ConnectionString = Settings("di").ConnectionString);
        var order = new List<string>();
        services.ConfigureDatabaseProvider<Local>((sp, hooks) => hooks.OnSqliteConnectionOpened = c =>
        {
            order.Add("first");
            c.CreateFunction(sp.GetRequiredService<FunctionName>().Name, (long x) => x * 2);
        });
        services.ConfigureDatabaseProvider<Local>((_, hooks) => hooks.OnSqliteConnectionOpened = _ => order.Add("second"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Local db = provider.GetRequiredService<Local>();
        Assert.Equal(14L, await db.ExecuteAsync((s, ct) => DoubleAsync(s, 7, ct)));
        Assert.Equal(new[] { "first", "second" }, order);
    }

    private sealed record FunctionName(string Name);
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresProviderHooksTests(PostgresServer server)
{
    [PostgresFact]
    public async Task A_postgresql_enum_mapped_in_the_builder_is_written_and_read_back()
    {
        string cs = await server.CreateDatabaseAsync("hooks");
        await Resilient.AdminAsync(cs, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE people (name text PRIMARY KEY, mood mood NOT NULL)");
        var hooks = new ProviderHooks { ConfigureNpgsql = builder => builder.MapEnum<Mood>("mood") };
        await using var db = new Pg(new PgSettings { ConnectionString = cs }, "Production", hooks: hooks);

        await db.ExecuteAsync(async (session, ct) =>
        {
            await using NpgsqlCommand insert = session.CreateCommand("INSERT INTO people VALUES ('ann', $1)");
            insert.Parameters.Add(new NpgsqlParameter<Mood> { TypedValue = Mood.Happy });
            await insert.ExecuteNonQueryAsync(ct);
        });

        Mood mood = await db.ExecuteReadOnlyAsync(async (session, ct) =>
        {
            await using NpgsqlCommand select = session.CreateCommand("SELECT mood FROM people WHERE name = 'ann'");
            await using NpgsqlDataReader reader = await select.ExecuteReaderAsync(ct);
            Assert.True(await reader.ReadAsync(ct));
            return reader.GetFieldValue<Mood>(0);
        });

        Assert.Equal(Mood.Happy, mood);
        Assert.Equal("happy", await Resilient.AdminAsync(cs, "SELECT mood::text FROM people"));
    }

    [PostgresFact]
    public async Task A_periodic_password_provider_keeps_units_succeeding_while_the_password_is_rotated_on_the_server()
    {
        string cs = await server.CreateDatabaseAsync("rotate");
        string role = "rotating_" + RandomNumberGenerator.GetHexString(8).ToLowerInvariant();
        string password = RandomNumberGenerator.GetHexString(24);
        await Resilient.AdminAsync(cs, $"CREATE ROLE {role} LOGIN PASSWORD '{password}'; GRANT ALL ON SCHEMA public TO {role}; CREATE TABLE ticks (n int); GRANT ALL ON ticks TO {role}");

        string current = password;
        int asked = 0;
        var hooks = new ProviderHooks
        {
            ConfigureNpgsql = builder => builder.UsePeriodicPasswordProvider(
                (_, _) =>
                {
                    Interlocked.Increment(ref asked);
                    return ValueTask.FromResult(Volatile.Read(ref current));
                },
                TimeSpan.FromMilliseconds(200),
                TimeSpan.FromMilliseconds(100)),
        };
        var app = new NpgsqlConnectionStringBuilder(cs) { Username = role, Password = null };
        await using var db = new Pg(new PgSettings { ConnectionString = app.ConnectionString }, "Production", hooks: hooks);

        async Task TickAsync()
            => await db.ExecuteAsync(async (session, ct) => await Resilient.NonQueryAsync(session, "INSERT INTO ticks VALUES (1)", ct));

        await TickAsync();

        // Rotate: the server takes the new password, the provider hands it out, every old backend is ended.
        string rotated = RandomNumberGenerator.GetHexString(24);
        await Resilient.AdminAsync(cs, $"ALTER ROLE {role} PASSWORD '{rotated}'");
        Volatile.Write(ref current, rotated);
        int askedBefore = Volatile.Read(ref asked);
        Assert.True(await Resilient.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref asked) > askedBefore), TimeSpan.FromSeconds(5)));
        await Task.Delay(300);
        await Resilient.AdminAsync(cs, $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}'");

        // New connections authenticate with the rotated password; a unit that met a killed backend is retried.
        for (int i = 0; i < 20; i++)
        {
            await TickAsync();
        }

        Assert.Equal(21L, await Resilient.AdminAsync(cs, "SELECT count(*) FROM ticks"));
        Assert.True(Volatile.Read(ref asked) > askedBefore);
    }
}
