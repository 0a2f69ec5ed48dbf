using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace DbCore.Tests.Postgres;

[Collection(PostgresCollection.Name)]
public sealed class PostgresSessionTests(PostgresServer server)
{
    private async Task<Pg> CreateDatabaseAsync(string environment = "Development")
    {
        string connectionString = await server.CreateDatabaseAsync("session");
        var db = new Pg(new PgSettings { ConnectionString = connectionString }, environment);
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using NpgsqlCommand command = session.CreateCommand("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)");
            await command.ExecuteNonQueryAsync(ct);
        });
        return db;
    }

    private static Task<long> CountAsync(Pg db, string name)
        => db.ExecuteAsync(async (session, ct) =>
        {
            await using NpgsqlCommand command = session.CreateCommand("SELECT COUNT(*) FROM items WHERE name = @name");
            command.Parameters.AddWithValue("name", name);
            return (long)(await command.ExecuteScalarAsync(ct))!;
        });

    private static async Task InsertAsync(PgSession session, string name, CancellationToken ct = default)
    {
        await using NpgsqlCommand command = session.CreateCommand("INSERT INTO items (name) VALUES (@name)");
        command.Parameters.AddWithValue("name", name);
        await command.ExecuteNonQueryAsync(ct);
    }

    [PostgresFact]
    public async Task Commit_persists()
    {
        await using Pg db = await CreateDatabaseAsync();
        await db.ExecuteAsync((session, ct) => InsertAsync(session, "kept", ct));
        Assert.Equal(1, await CountAsync(db, "kept"));
    }

    [PostgresFact]
    public async Task Exception_inside_unit_of_work_rolls_back()
    {
        await using Pg db = await CreateDatabaseAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await InsertAsync(session, "lost", ct);
            throw new InvalidOperationException("boom");
        }));

        Assert.Equal(0, await CountAsync(db, "lost"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Disposal_without_commit_rolls_back_sync_and_async()
    {
        await using Pg db = await CreateDatabaseAsync();
        await using (PgSession session = await db.OpenSessionAsync())
        {
            await InsertAsync(session, "uncommitted");
        }

        using (PgSession session = db.CreateSession())
        {
            await InsertAsync(session, "uncommitted");
        }

        Assert.Equal(0, await CountAsync(db, "uncommitted"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Scoped_session_is_disposed_with_its_scope()
    {
        string connectionString = await server.CreateDatabaseAsync("scoped");
        var services = new ServiceCollection();
        services.AddPg(configure: s => s.ConnectionString = connectionString);
        await using ServiceProvider provider = services.BuildServiceProvider();
        Pg db = provider.GetRequiredService<Pg>();
        await db.ExecuteAsync(static async (session, ct) =>
        {
            await using NpgsqlCommand command = session.CreateCommand("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL)");
            await command.ExecuteNonQueryAsync(ct);
        });

        using (IServiceScope scope = provider.CreateScope())
        {
            PgSession session = scope.ServiceProvider.GetRequiredService<PgSession>();
            await InsertAsync(session, "scoped");
            Assert.Equal(1, db.GetPoolStatistics().InUse);
        }

        Assert.Equal(0, db.GetPoolStatistics().InUse);
        Assert.Equal(0, await CountAsync(db, "scoped"));
        await using (AsyncServiceScope scope = provider.CreateAsyncScope())
        {
            PgSession session = scope.ServiceProvider.GetRequiredService<PgSession>();
            await session.OpenAsync();
            await InsertAsync(session, "scoped");
            await session.CommitAsync();
        }

        Assert.Equal(1, await CountAsync(db, "scoped"));
    }

    [PostgresFact]
    public async Task Url_form_connects()
    {
        await using var db = new Pg(new PgSettings { ConnectionString = server.Url }, "Development");
        Assert.True(await db.CheckHealthAsync());
        Assert.DoesNotContain(server.Password, db.ToString());
        Assert.DoesNotContain(server.Password, db.Settings.ToString());
        Assert.DoesNotContain(server.Password, db.Options.DisplayConnectionString);
    }

    [PostgresFact]
    public async Task Health_is_true_for_the_server()
    {
        await using var db = new Pg(new PgSettings { ConnectionString = server.ConnectionString }, "Development");
        Assert.True(await db.CheckHealthAsync());
    }

    [PostgresFact]
    public async Task Health_is_false_within_its_timeout_for_a_closed_port()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using var db = new Pg(new PgSettings { ConnectionString = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Password=secret-pw", HealthTimeoutSeconds = 2 }, "Development");
        var clock = Stopwatch.StartNew();
        Assert.False(await db.CheckHealthAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(3), $"took {clock.Elapsed}");
    }

    [PostgresFact]
    public async Task Health_is_false_within_its_timeout_for_a_server_that_does_not_answer()
    {
        // A socket that accepts connections and never speaks: the check must give up at its timeout.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var db = new Pg(new PgSettings { ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres", HealthTimeoutSeconds = 1 }, "Development");
        var clock = Stopwatch.StartNew();
        Assert.False(await db.CheckHealthAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");
    }

    [PostgresFact]
    public async Task Environment_from_IHostEnvironment_picks_the_profile()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development", DisableDefaults = true });
        builder.Services.AddPg(configure: s => s.ConnectionString = server.ConnectionString);
        using IHost host = builder.Build();
        await host.StartAsync();
        Pg db = host.Services.GetRequiredService<Pg>();
        Assert.Equal("Development", db.Environment);
        var built = new NpgsqlConnectionStringBuilder(db.DataSource.ConnectionString);
        Assert.Equal(5, built.MinPoolSize);
        Assert.Equal(15, built.MaxPoolSize);
        Assert.True(await db.CheckHealthAsync());
        await host.StopAsync();
    }

    [PostgresFact]
    public async Task Warm_up_opens_the_pool_size_at_start()
    {
        string connectionString = await server.CreateDatabaseAsync("warm");
        var settings = new PgSettings { ConnectionString = connectionString };
        settings.Pool.Size = 3;
        settings.Pool.WarmUp = true;
        settings.Pool.IdleSeconds = 300;
        await using var db = new Pg(settings, "Development");
        Assert.Equal(3, await db.WarmUpAsync());

        await using var observer = NpgsqlDataSource.Create(server.ConnectionString + ";Pooling=false");
        await using NpgsqlCommand count = observer.CreateCommand("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = @db");
        count.Parameters.AddWithValue("db", new NpgsqlConnectionStringBuilder(connectionString).Database!);
        Assert.Equal(3L, (long)(await count.ExecuteScalarAsync())!);
    }
}
