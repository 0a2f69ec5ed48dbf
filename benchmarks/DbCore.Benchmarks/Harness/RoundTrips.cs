using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;
using Npgsql;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Server-side proof of "no extra round trip per session": pg_stat_statements (preloaded by the fixture's server) counts
/// every statement the bench database receives while each contender runs N units on a warm pool.
/// </summary>
internal static class RoundTrips
{
    public static async Task<string> RunAsync(BenchEnvironment environment, int units, TextWriter log)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"### Statements received by the server per {units} units (pg_stat_statements, track_utility on)");
        text.AppendLine();
        text.AppendLine("| contender | statements | per unit | breakdown |");
        text.AppendLine("|---|---:|---:|---|");

        // The admin connection lives in another database, so its own queries are not counted.
        string admin = environment.Server!.BuildConnectionString("postgres", pooling: false);
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync().ConfigureAwait(false);
        await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements").ConfigureAwait(false);
        string database = new NpgsqlConnectionStringBuilder(environment.PostgresConnectionString).Database!;

        foreach (UnitOfWork contender in environment.PostgresUnits)
        {
            for (int i = 0; i < 20; i++)
            {
                await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, "SELECT pg_stat_statements_reset()").ConfigureAwait(false);
            for (int i = 0; i < units; i++)
            {
                await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }

            var rows = new List<(string Query, long Calls)>();
            await using (var command = new NpgsqlCommand(
                "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY calls DESC, query", connection))
            {
                command.Parameters.AddWithValue(database);
                await using NpgsqlDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    rows.Add((reader.GetString(0), reader.GetInt64(1)));
                }
            }

            long total = rows.Sum(r => r.Calls);
            string breakdown = string.Join(", ", rows.Select(r => $"`{r.Query}` x{r.Calls}"));
            text.AppendLine(c, $"| {contender.Name} | {total} | {(double)total / units:0.00} | {breakdown} |");
            log.WriteLine(string.Create(c, $"  {contender.Name}: {total} statements for {units} units ({breakdown})"));
        }

        return text.ToString();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
