using System.Diagnostics;
using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Startup: each sample is a fresh process (this program with <c>--startup-child</c>), so the JIT, type loading and the
/// first connection are paid again every time. The child times, on its own stopwatch, from <c>BuildServiceProvider</c>
/// (DbCore) or from creating the <see cref="NpgsqlDataSource"/> / <see cref="SqliteConnection"/> (raw) to the end of the
/// first write unit (BEGIN, one UPDATE, COMMIT); the parent also times the whole process (start to exit).
/// </summary>
internal static class Startup
{
    private const string Marker = "STARTUP-MS ";

    public static async Task<string> RunAsync(BenchEnvironment environment, int samples, TextWriter log)
    {
        string self = typeof(Startup).Assembly.Location;
        var cases = new List<(string Provider, string Side, string ConnectionString)>
        {
            ("sqlite", "raw", "Data Source=" + Path.Combine(environment.SqliteDirectory, "bench.db")),
            ("sqlite", "dbcore", "Data Source=" + Path.Combine(environment.SqliteDirectory, "bench.db")),
        };
        if (environment.HasPostgres)
        {
            cases.Add(("postgresql", "raw", environment.PostgresConnectionString));
            cases.Add(("postgresql", "dbcore", environment.PostgresConnectionString));
        }

        var results = new Dictionary<(string, string), (List<double> Unit, List<double> Process)>();
        foreach (var c in cases)
        {
            results[(c.Provider, c.Side)] = ([], []);
        }

        // Interleaved (raw, dbcore, raw, dbcore, ...) so drift falls on both.
        for (int i = 0; i < samples; i++)
        {
            foreach ((string provider, string side, string connectionString) in cases)
            {
                var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (string a in new[] { self, "--startup-child", provider, side, connectionString })
                {
                    start.ArgumentList.Add(a);
                }

                var wall = Stopwatch.StartNew();
                using Process process = Process.Start(start)!;
                string output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
                string error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
                await process.WaitForExitAsync().ConfigureAwait(false);
                double processMs = wall.Elapsed.TotalMilliseconds;
                string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
                if (process.ExitCode != 0 || line is null)
                {
                    throw new InvalidOperationException($"startup child {provider} {side} failed ({process.ExitCode}): {output} {error}");
                }

                double unitMs = double.Parse(line[Marker.Length..].Trim(), CultureInfo.InvariantCulture);
                results[(provider, side)].Unit.Add(unitMs);
                results[(provider, side)].Process.Add(processMs);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  startup {provider} {side} #{i + 1}: first unit {unitMs:0.0} ms, process {processMs:0} ms"));
            }
        }

        var text = new StringBuilder();
        CultureInfo ci = CultureInfo.InvariantCulture;
        text.AppendLine(ci, $"### Startup, JIT (median of {samples} fresh processes, ms; min..max)").AppendLine();
        text.AppendLine("| provider | side | BuildServiceProvider (raw: data source) to first unit done | whole process, start to exit |");
        text.AppendLine("|---|---|---:|---:|");
        foreach (((string provider, string side), (List<double> unit, List<double> proc)) in results)
        {
            text.AppendLine(ci, $"| {provider} | {side} | {Throughput.Median(unit):0.0} ({unit.Min():0.0}..{unit.Max():0.0}) | {Throughput.Median(proc):0} ({proc.Min():0}..{proc.Max():0}) |");
        }

        return text.AppendLine().ToString();
    }

    /// <summary>The child: one first unit, timed, printed as <c>STARTUP-MS n</c>.</summary>
    public static async Task<int> ChildAsync(string provider, string side, string connectionString)
    {
        string sql = BenchSql.NextUpdate();
        long start;
        if (side == "raw")
        {
            start = Stopwatch.GetTimestamp();
            if (provider == "postgresql")
            {
                await using NpgsqlDataSource dataSource = NpgsqlDataSource.Create(connectionString);
                await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
                await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
                await using (var command = new NpgsqlCommand(sql, connection, transaction))
                {
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
                Report(start);
            }
            else
            {
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync().ConfigureAwait(false);
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync().ConfigureAwait(false);
                await using (SqliteCommand command = connection.CreateCommand())
                {
                    command.Transaction = transaction;
                    command.CommandText = sql;
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
                Report(start);
            }

            return 0;
        }

        var services = new ServiceCollection();
        if (provider == "postgresql")
        {
            services.AddPgBench(configure: s => s.ConnectionString = connectionString);
            start = Stopwatch.GetTimestamp();
            await using ServiceProvider serviceProvider = services.BuildServiceProvider();
            PgBench db = serviceProvider.GetRequiredService<PgBench>();
            await db.ExecuteAsync(async (session, ct) =>
            {
                await using NpgsqlCommand command = session.CreateCommand(sql);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            Report(start);
        }
        else
        {
            services.AddSqliteBench(configure: s => s.ConnectionString = connectionString);
            start = Stopwatch.GetTimestamp();
            await using ServiceProvider serviceProvider = services.BuildServiceProvider();
            SqliteBench db = serviceProvider.GetRequiredService<SqliteBench>();
            await db.ExecuteAsync(async (session, ct) =>
            {
                await using SqliteCommand command = session.CreateCommand(sql);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            Report(start);
        }

        return 0;
    }

    private static void Report(long start)
        => Console.WriteLine(Marker + Stopwatch.GetElapsedTime(start).TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture));
}
