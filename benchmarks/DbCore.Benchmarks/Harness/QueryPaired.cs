using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// The query benchmark (issue 13): all contenders of one provider and shape interleaved unit by unit, each unit timed on
/// its own. A worker runs one unit of every contender per round, in a new shuffled order each round, so every contender
/// takes every place and follows every other one about equally often; the contenders of one block ran microseconds apart, so any two of them can be
/// compared block by block (time(other) / time(contender)). B/unit comes from a separate pass per contender (its units
/// alone, one after another): the process-wide <see cref="GC.GetTotalAllocatedBytes(bool)"/> delta / units.
/// </summary>
internal static class QueryPaired
{
    public sealed record Result(string Provider, QueryShape Shape, int Concurrency, IReadOnlyList<string> Contenders, long[][] BlockTicks, long UnitsPerContender, double[][] BytesPerUnit)
    {
        public int IndexOf(string name) => Contenders.ToList().IndexOf(name);

        public double Microseconds(int contender) => BlockTicks[contender].Sum() * 1_000_000.0 / Stopwatch.Frequency / UnitsPerContender;

        /// <summary>Per block, time(<paramref name="reference"/>) / time(<paramref name="contender"/>): the contender's relative throughput.</summary>
        public double[] Ratios(int contender, int reference) => BlockTicks[contender].Zip(BlockTicks[reference], (c, r) => (double)r / c).ToArray();

        public double Bytes(int contender) => Throughput.Median(BytesPerUnit[contender]);
    }

    /// <summary>
    /// Runs every contender once for a few keys and compares the rows with each other and with the seeded data; throws on
    /// any difference. Also checks that Dapper.AOT intercepted: Dapper's own (reflection) query cache stays empty while
    /// only <c>dapper-aot</c> has run, and fills once plain Dapper runs.
    /// </summary>
    public static async Task<string> VerifyAsync(QueryUnit[] contenders)
    {
        QueryShape shape = contenders[0].Shape;
        long[] keys = shape == QueryShape.Lookup ? [1, 4242, QuerySql.Rows, 0] : [0, 4242, QuerySql.Rows - QuerySql.ListSize, QuerySql.Rows - 5, QuerySql.Rows];
        string? dapperCache = null;
        SqlMapper.PurgeQueryCache();
        QueryUnit[] ordered = [.. contenders.Where(c => c.Name == "dapper-aot"), .. contenders.Where(c => c.Name != "dapper-aot")];
        var results = new Dictionary<string, List<World>[]>();
        foreach (QueryUnit contender in ordered)
        {
            var rows = new List<World>[keys.Length];
            for (int i = 0; i < keys.Length; i++)
            {
                rows[i] = await contender.FetchAsync(keys[i]).ConfigureAwait(false);
            }

            results[contender.Name] = rows;
            if (contender.Name == "dapper-aot")
            {
                dapperCache = "Dapper query cache after dapper-aot alone: " + SqlMapper.GetCachedSQLCount();
            }
            else if (contender.Name == "dapper")
            {
                dapperCache += ", after plain dapper: " + SqlMapper.GetCachedSQLCount();
            }
        }

        for (int i = 0; i < keys.Length; i++)
        {
            List<World> expected = Expected(shape, keys[i]);
            foreach ((string name, List<World>[] rows) in results)
            {
                if (!rows[i].SequenceEqual(expected))
                {
                    throw new InvalidOperationException($"{contenders[0].Provider} {shape}: {name} returned [{string.Join(", ", rows[i])}] for key {keys[i]}, expected [{string.Join(", ", expected)}].");
                }
            }
        }

        return $"{contenders[0].Provider} {shape}: all {contenders.Length} contenders returned the same rows for keys {string.Join(", ", keys)}; {dapperCache}.";
    }

    private static List<World> Expected(QueryShape shape, long key)
    {
        static World Row(long id) => new(id, (id * 7919L % QuerySql.Rows) + 1);
        if (shape == QueryShape.Lookup)
        {
            return key is >= 1 and <= QuerySql.Rows ? [Row(key)] : [];
        }

        var rows = new List<World>();
        for (long id = key + 1; id <= QuerySql.Rows && rows.Count < QuerySql.ListSize; id++)
        {
            rows.Add(Row(id));
        }

        return rows;
    }

    public static async Task<Result> RunAsync(QueryUnit[] contenders, int blocks, int unitsPerBlock, int concurrency, int allocationUnits, TextWriter log)
    {
        int n = contenders.Length;
        for (int i = 0; i < 300; i++)
        {
            foreach (QueryUnit contender in contenders)
            {
                await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        int roundsPerWorker = Math.Max(1, unitsPerBlock / concurrency);
        var blockTicks = new long[n][];
        for (int c = 0; c < n; c++)
        {
            blockTicks[c] = new long[blocks];
        }

        var workers = new Task<long[]>[concurrency];
        string provider = contenders[0].Provider;
        for (int block = 0; block < blocks; block++)
        {
            for (int w = 0; w < concurrency; w++)
            {
                workers[w] = WorkerAsync(contenders, roundsPerWorker, block + w);
            }

            foreach (long[] ticks in await Task.WhenAll(workers).ConfigureAwait(false))
            {
                for (int c = 0; c < n; c++)
                {
                    blockTicks[c][block] += ticks[c];
                }
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  queries {provider} {contenders[0].Shape} c={concurrency} block {block + 1}: ")
                + string.Join(" ", Enumerable.Range(0, n).Select(c => string.Create(CultureInfo.InvariantCulture, $"{contenders[c].Name}={blockTicks[c][block] * 1_000_000.0 / Stopwatch.Frequency / (roundsPerWorker * (double)concurrency):0.0}us"))));
        }

        // Allocations: each contender alone, sequentially, three passes in alternating order.
        var bytes = new double[n][];
        for (int c = 0; c < n; c++)
        {
            bytes[c] = new double[3];
        }

        for (int pass = 0; pass < 3; pass++)
        {
            for (int j = 0; j < n; j++)
            {
                int c = pass % 2 == 0 ? j : n - 1 - j;
                GC.Collect();
                GC.WaitForPendingFinalizers();
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < allocationUnits; i++)
                {
                    await contenders[c].RunAsync(CancellationToken.None).ConfigureAwait(false);
                }

                bytes[c][pass] = (double)(GC.GetTotalAllocatedBytes(precise: true) - before) / allocationUnits;
            }
        }

        return new Result(provider, contenders[0].Shape, concurrency, contenders.Select(c => c.Name).ToArray(), blockTicks, blocks * (long)roundsPerWorker * concurrency, bytes);
    }

    private static async Task<long[]> WorkerAsync(QueryUnit[] contenders, int rounds, int offset)
    {
        await Task.Yield(); // start the workers side by side

        int n = contenders.Length;
        var ticks = new long[n];
        int[] order = Enumerable.Range(0, n).ToArray();
        var random = new Random(offset);
        for (int i = 0; i < rounds; i++)
        {
            // A new order every round (seeded, so every run draws the same): each contender follows each other one
            // equally often, so what a predecessor leaves behind (GC pressure, caches) falls on all alike.
            random.Shuffle(order);
            foreach (int c in order)
            {
                long t0 = Stopwatch.GetTimestamp();
                await contenders[c].RunAsync(CancellationToken.None).ConfigureAwait(false);
                ticks[c] += Stopwatch.GetTimestamp() - t0;
            }
        }

        return ticks;
    }

    /// <summary>Markdown: per contender us/unit, ratio vs the baseline (median, middle half, min..max), B/unit; then the targets.</summary>
    public static string Format(Result r, string baseline, string subject, IReadOnlyList<(string Other, double Target, string Label)> targets, IReadOnlyList<(string Subject, string Other, double Target, string Label)>? pairs = null)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        int b = r.IndexOf(baseline);
        int a = r.IndexOf(subject);
        string shape = r.Shape == QueryShape.Lookup ? "one-row lookup by primary key" : "20-row list";
        text.AppendLine(c, $"### {r.Provider}, {shape}, concurrency {r.Concurrency} ({r.BlockTicks[0].Length} blocks, {r.UnitsPerContender} units per contender)").AppendLine();
        text.AppendLine(c, $"| contender | us/unit | throughput vs {baseline}: median | middle half | min..max | B/unit | B/unit vs {baseline} |");
        text.AppendLine("|---|---:|---:|---|---|---:|---:|");
        double baseBytes = r.Bytes(b);
        for (int i = 0; i < r.Contenders.Count; i++)
        {
            (double median, double q1, double q3, double min, double max) = Spread(r.Ratios(i, b));
            double bytes = r.Bytes(i);
            text.AppendLine(c, $"| {r.Contenders[i]} | {r.Microseconds(i):0.0} | **{median:0.000}** | {q1:0.000}..{q3:0.000} | {min:0.000}..{max:0.000} | {bytes:0} | {bytes - baseBytes:+0;-0;0} |");
        }

        text.AppendLine();
        text.AppendLine("| target | paired ratio (median; middle half; min..max) | met |");
        text.AppendLine("|---|---|---|");
        foreach ((string other, double target, string label) in targets)
        {
            (double median, double q1, double q3, double min, double max) = Spread(r.Ratios(a, r.IndexOf(other)));
            text.AppendLine(c, $"| {label}: {subject} / {other} >= {target:0.00} | **{median:0.000}**; {q1:0.000}..{q3:0.000}; {min:0.000}..{max:0.000} | {(median >= target ? "yes" : "**no**")} |");
        }

        double aBytes = r.Bytes(a);
        text.AppendLine(c, $"| B/unit: {subject} <= {baseline} | {aBytes:0} vs {baseBytes:0} ({aBytes - baseBytes:+0;-0;0}) | {(aBytes <= baseBytes ? "yes" : "**no**")} |");

        // Other pairs, each with its own baseline (say, a contender on a second pool against raw code on that pool).
        foreach ((string pairSubject, string other, double target, string label) in pairs ?? [])
        {
            int s = r.IndexOf(pairSubject);
            int o = r.IndexOf(other);
            (double median, double q1, double q3, double min, double max) = Spread(r.Ratios(s, o));
            text.AppendLine(c, $"| {label}: {pairSubject} / {other} >= {target:0.00} | **{median:0.000}**; {q1:0.000}..{q3:0.000}; {min:0.000}..{max:0.000} | {(median >= target ? "yes" : "**no**")} |");
            text.AppendLine(c, $"| B/unit: {pairSubject} <= {other} | {r.Bytes(s):0} vs {r.Bytes(o):0} ({r.Bytes(s) - r.Bytes(o):+0;-0;0}) | {(r.Bytes(s) <= r.Bytes(o) ? "yes" : "**no**")} |");
        }
        return text.AppendLine().ToString();
    }

    private static (double Median, double Q1, double Q3, double Min, double Max) Spread(double[] values)
    {
        double[] sorted = values.Order().ToArray();
        return (Throughput.Median(sorted), sorted[sorted.Length / 4], sorted[sorted.Length * 3 / 4], sorted[0], sorted[^1]);
    }
}
