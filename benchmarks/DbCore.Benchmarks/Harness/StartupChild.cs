using System.Diagnostics;
using System.Globalization;
using DbCore.Benchmarks.Infrastructure;
using Microsoft.Data.Sqlite;
#if !STARTUP_PROBE_RAW_ONLY
using Microsoft.Extensions.DependencyInjection;
#endif
using Npgsql;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// One startup sample, in a fresh process: the first write unit (BEGIN, one UPDATE, COMMIT), timed from
/// <c>BuildServiceProvider</c> (DbCore) or from creating the <see cref="NpgsqlDataSource"/> / <see cref="SqliteConnection"/>
/// (raw) to its end, printed as <c>STARTUP-MS n</c>. Shared (linked) by the JIT benchmark program (<c>--startup-child</c>)
/// and the NativeAOT probe (benchmarks/DbCore.StartupProbe), so both time the same code.
/// </summary>
/// <remarks>
/// Sides: <c>raw</c> and <c>dbcore</c> (the compared pair); for the breakdown of DbCore's part, <c>dbcore-resolve</c>
/// (BuildServiceProvider and the accessor resolved, no unit) and <c>dbcore-direct</c> (no DI container: the accessor
/// constructed with <c>new</c>, then the same unit). The probe's raw-only build (<c>STARTUP_PROBE_RAW_ONLY</c>: no DbCore,
/// no DI container in the binary) has the <c>raw</c> side only; it gives raw's binary size and raw's startup without
/// DbCore's code in the image.
/// </remarks>
internal static class StartupChild
{
    public const string Marker = "STARTUP-MS ";

    public static readonly string[] Sides = ["raw", "dbcore", "dbcore-resolve", "dbcore-direct"];

    public static async Task<int> RunAsync(string provider, string side, string connectionString)
    {
        string sql = BenchSql.NextUpdate();
        long start;
        if (side == "raw")
        {
            start = Stopwatch.GetTimestamp();
            if (provider == "postgresql")
            {
                // NpgsqlDataSource.Create is a plain NpgsqlDataSourceBuilder (what DbCore builds too); it is trim- and
                // AOT-safe (no warning when the probe is published with PublishAot).
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

#if STARTUP_PROBE_RAW_ONLY
        throw new ArgumentException("The raw-only probe has the side 'raw' only, not '" + side + "'.", nameof(side));
#else
        bool unit = side != "dbcore-resolve";
        bool container = side != "dbcore-direct";
        if (side is not ("dbcore" or "dbcore-resolve" or "dbcore-direct"))
        {
            throw new ArgumentException("Unknown side '" + side + "' (raw, dbcore, dbcore-resolve, dbcore-direct).", nameof(side));
        }

        if (provider == "postgresql")
        {
            var services = new ServiceCollection();
            services.AddPgBench(configure: s => s.ConnectionString = connectionString);
            start = Stopwatch.GetTimestamp();
            ServiceProvider? serviceProvider = container ? services.BuildServiceProvider() : null;
            await using (serviceProvider)
            {
                PgBench db = serviceProvider?.GetRequiredService<PgBench>() ?? new PgBench(new PgBenchSettings { ConnectionString = connectionString });
                if (unit)
                {
                    await db.ExecuteAsync(async (session, ct) =>
                    {
                        await using NpgsqlCommand command = session.CreateCommand(sql);
                        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    }).ConfigureAwait(false);
                }

                Report(start);
                if (!container)
                {
                    await db.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        else
        {
            var services = new ServiceCollection();
            services.AddSqliteBench(configure: s => s.ConnectionString = connectionString);
            start = Stopwatch.GetTimestamp();
            ServiceProvider? serviceProvider = container ? services.BuildServiceProvider() : null;
            await using (serviceProvider)
            {
                SqliteBench db = serviceProvider?.GetRequiredService<SqliteBench>() ?? new SqliteBench(new SqliteBenchSettings { ConnectionString = connectionString });
                if (unit)
                {
                    await db.ExecuteAsync(async (session, ct) =>
                    {
                        await using SqliteCommand command = session.CreateCommand(sql);
                        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    }).ConfigureAwait(false);
                }

                Report(start);
                if (!container)
                {
                    await db.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return 0;
#endif
    }

    private static void Report(long start)
        => Console.WriteLine(Marker + Stopwatch.GetElapsedTime(start).TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture));
}
