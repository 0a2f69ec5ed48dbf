using System.Diagnostics;
using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;
using Npgsql;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// First-request latency of a freshly built accessor, with and without <c>Pool:WarmUp</c>. With WarmUp the accessor's
/// <c>WarmUpAsync()</c> runs first, as DbCore's hosted startup service does when the app starts; its own duration is
/// reported separately. Measures the first single request and the first burst of <c>Size</c> concurrent requests.
/// </summary>
internal static class WarmUpLatency
{
    private static readonly Func<PgBenchSession, CancellationToken, Task<object?>> s_work = WorkAsync;

    public static async Task<string> RunAsync(BenchEnvironment environment, int repetitions, TextWriter log)
    {
        // One throwaway pass so JIT is not part of the first "first request".
        await MeasureAsync(environment, warmUp: true).ConfigureAwait(false);
        await MeasureAsync(environment, warmUp: false).ConfigureAwait(false);

        var cold = new List<(double WarmUp, double First, double Burst)>();
        var warm = new List<(double WarmUp, double First, double Burst)>();
        for (int i = 0; i < repetitions; i++)
        {
            cold.Add(await MeasureAsync(environment, warmUp: false).ConfigureAwait(false));
            warm.Add(await MeasureAsync(environment, warmUp: true).ConfigureAwait(false));
        }

        CultureInfo c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"### First-request latency of a new accessor (median of {repetitions}, ms; min..max)");
        text.AppendLine();
        text.AppendLine("| Pool:WarmUp | WarmUpAsync at start | first request | first 10 concurrent requests (all done) |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach ((string name, List<(double WarmUp, double First, double Burst)> samples) in new[] { ("false", cold), ("true", warm) })
        {
            text.AppendLine(c, $"| {name} | {Cell(samples.Select(s => s.WarmUp))} | {Cell(samples.Select(s => s.First))} | {Cell(samples.Select(s => s.Burst))} |");
            log.WriteLine(string.Create(c, $"  WarmUp={name}: first {Throughput.Median(samples.Select(s => s.First)):0.00} ms, burst {Throughput.Median(samples.Select(s => s.Burst)):0.00} ms"));
        }

        return text.ToString();

        static string Cell(IEnumerable<double> values)
        {
            double[] v = values.ToArray();
            return v.All(x => x == 0) ? "-" : string.Create(CultureInfo.InvariantCulture, $"{Throughput.Median(v):0.00} ({v.Min():0.00}..{v.Max():0.00})");
        }
    }

    private static async Task<(double WarmUp, double First, double Burst)> MeasureAsync(BenchEnvironment environment, bool warmUp)
    {
        double warmUpMs = 0, firstMs, burstMs;
        PgBench database = environment.CreatePgDatabase(warmUp);
        await using (database.ConfigureAwait(false))
        {
            if (database.Pool.WarmUp)
            {
                long w = Stopwatch.GetTimestamp();
                await database.WarmUpAsync().ConfigureAwait(false);
                warmUpMs = Stopwatch.GetElapsedTime(w).TotalMilliseconds;
            }

            long start = Stopwatch.GetTimestamp();
            await database.ExecuteAsync(s_work).ConfigureAwait(false);
            firstMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        // The burst on another fresh accessor: Size requests at once against an empty (or warmed) pool.
        database = environment.CreatePgDatabase(warmUp);
        await using (database.ConfigureAwait(false))
        {
            if (database.Pool.WarmUp)
            {
                await database.WarmUpAsync().ConfigureAwait(false);
            }

            long start = Stopwatch.GetTimestamp();
            var burst = new Task[database.Pool.Size];
            for (int i = 0; i < burst.Length; i++)
            {
                burst[i] = database.ExecuteAsync(s_work);
            }

            await Task.WhenAll(burst).ConfigureAwait(false);
            burstMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        NpgsqlConnection.ClearAllPools();
        return (warmUpMs, firstMs, burstMs);
    }

    private static async Task<object?> WorkAsync(PgBenchSession session, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = session.CreateCommand("SELECT 1");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }
}
