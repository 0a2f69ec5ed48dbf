using Npgsql;

namespace DbCore.Tests.Infrastructure;

/// <summary>Counts what the server ran, with pg_stat_statements (preloaded by the fixture; track_utility is on).</summary>
internal static class StatementCounter
{
    /// <summary>Every statement the server ran for <paramref name="cs"/>'s database during <paramref name="action"/>, with its calls.</summary>
    public static async Task<Dictionary<string, long>> StatementsAsync(this PostgresServer server, string cs, Func<Task> action)
    {
        string admin = server.BuildConnectionString("postgres", pooling: false);
        string database = new NpgsqlConnectionStringBuilder(cs).Database!;
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using (var setup = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        await using (var reset = new NpgsqlCommand("SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)", connection))
        {
            reset.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
            await reset.ExecuteNonQueryAsync();
        }

        await action();
        await using var command = new NpgsqlCommand(
            "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = database });
        await using var reader = await command.ExecuteReaderAsync();
        var statements = new Dictionary<string, long>();
        while (await reader.ReadAsync())
        {
            statements[reader.GetString(0)] = reader.GetInt64(1);
        }

        return statements;
    }
}
