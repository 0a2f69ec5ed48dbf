using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.ScaleOut;

internal static class ScaleOutSupport
{
    /// <summary>A small PostgreSQL accessor in Production (3 attempts), fast backoff, short health timeout.</summary>
    public static Pg Pg(string connectionString, Action<PgSettings>? configure = null)
    {
        var settings = new PgSettings { ConnectionString = connectionString };
        settings.Pool.Size = 0;
        settings.Pool.MaxOverflow = 5;
        settings.Retry.BaseDelayMilliseconds = 20;
        settings.Retry.MaxDelayMilliseconds = 200;
        settings.HealthTimeoutSeconds = 2;
        configure?.Invoke(settings);
        return new Pg(settings, "Production");
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

    /// <summary>Where a session runs: in recovery (a standby), read-only transaction, server port, backend pid.</summary>
    public static async Task<Placement> PlacementAsync(PgSession session, CancellationToken ct = default)
    {
        // Inside the session's transaction (begun by asking for it), so transaction_read_only shows the session's kind; a
        // plain read would run before any transaction (the read path) and always say "off".
        _ = session.Transaction;
        await using NpgsqlCommand command = session.CreateCommand(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only'), inet_server_port(), pg_backend_pid()");
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new Placement(reader.GetBoolean(0), reader.GetString(1) == "on", reader.GetInt32(2), reader.GetInt32(3));
    }
}

internal readonly record struct Placement(bool InRecovery, bool ReadOnly, int Port, int BackendPid);
