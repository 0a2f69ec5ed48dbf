using DbCore.Tests.TestSettings;
using Microsoft.Extensions.Logging;
using Npgsql;

using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.Resilience;

internal static class Resilient
{
    /// <summary>A PostgreSQL accessor in Production (3 attempts unless changed) with fast backoff and a collecting logger.</summary>
    public static Pg Pg(string connectionString, LogCollector? logs = null, Action<PgSettings>? configure = null, string environment = "Production")
    {
        var settings = new PgSettings { ConnectionString = connectionString };
        settings.Retry.BaseDelayMilliseconds = 10;
        settings.Retry.MaxDelayMilliseconds = 100;
        configure?.Invoke(settings);
        return new Pg(settings, environment, logs);
    }

    /// <summary>A new database of the test server with an <c>orders (id int PRIMARY KEY)</c> table, optionally seeded.</summary>
    public static async Task<string> CreateOrdersDatabaseAsync(PostgresServer server, string prefix, string? seed = null)
    {
        string cs = await server.CreateDatabaseAsync(prefix);
        await AdminAsync(cs, "CREATE TABLE orders (id int PRIMARY KEY)" + (seed is null ? "" : "; " + seed));
        return cs;
    }

    /// <summary>How many orders match <paramref name="where"/>, read outside DbCore.</summary>
    public static async Task<long> CountOrdersAsync(string cs, string where = "true")
        => (long)(await AdminAsync(cs, $"SELECT count(*) FROM orders WHERE {where}"))!;

    /// <summary><paramref name="cs"/> pointed at <paramref name="proxy"/> (no TLS, so the proxy can read the protocol).</summary>
    public static string Proxied(string cs, DroppingProxy proxy)
        => new NpgsqlConnectionStringBuilder(cs) { Port = proxy.Port, SslMode = SslMode.Disable }.ConnectionString;

    /// <summary>
    /// A Production accessor whose one connection (pool 1 + 0) goes through <paramref name="proxy"/>, with a short command
    /// timeout: the shape of the tests where the proxy drops or blackholes that connection.
    /// </summary>
    public static Pg OneConnectionBehind(DroppingProxy proxy, string connectionString, int commandTimeoutSeconds)
        => Pg(Proxied(connectionString, proxy), configure: s =>
        {
            s.CommandTimeoutSeconds = commandTimeoutSeconds;
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
        });

    /// <summary>Runs SQL on a fresh unpooled connection, outside DbCore.</summary>
    public static async Task<object?> AdminAsync(string connectionString, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public static async Task<int> NonQueryAsync(PgSession session, string sql, CancellationToken ct = default)
    {
        await using NpgsqlCommand command = session.CreateCommand(sql);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public static async Task<T> ScalarAsync<T>(PgSession session, string sql, CancellationToken ct = default)
    {
        await using NpgsqlCommand command = session.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Backends of the test's own database (other than the asking one) that are running or inside a transaction.</summary>
    public static async Task<long> BusyBackendsAsync(string connectionString)
        => (long)(await AdminAsync(
            connectionString,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"))!;

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }
    }
}
