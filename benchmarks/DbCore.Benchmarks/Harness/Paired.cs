using System.Diagnostics;
using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Unit-by-unit interleaving: A, B, A, B, ... (the order flips every block), each unit timed on its own; at concurrency N,
/// N workers interleave so, half of them starting with each contender.
/// On a shared VM whose speed drifts by tens of percent within seconds (see the throughput rounds), two contenders that
/// run microseconds apart see the same machine, so the ratio of their summed times is stable where round-based ratios are
/// not. A block's ratio is time(baseline) / time(contender) = the contender's relative throughput. A block's unit-median
/// ratio is median(baseline unit time) / median(contender unit time): the same comparison without the stalls (a GC, a
/// preempted thread, a lock wait on SQLite's file) that land on a few units of one side and move a sum by tens of percent
/// on a unit of 15 us.
/// </summary>
internal static class Paired
{
    public sealed record Result(string Contender, string Baseline, double[] BlockRatios, double[] UnitMedianRatios, double ContenderMicroseconds, double BaselineMicroseconds);

    public static async Task<Result> RunAsync(UnitOfWork contender, UnitOfWork baseline, int blocks, int unitsPerBlock, TextWriter log, int concurrency = 1)
    {
        for (int i = 0; i < 200; i++)
        {
            await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            await baseline.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var ratios = new double[blocks];
        var unitMedianRatios = new double[blocks];
        long contenderTotal = 0, baselineTotal = 0;
        int pairsPerWorker = Math.Max(1, unitsPerBlock / concurrency);
        var workers = new Task<(long Contender, long Baseline)>[concurrency];
        var contenderUnits = new long[concurrency * pairsPerWorker];
        var baselineUnits = new long[concurrency * pairsPerWorker];
        for (int block = 0; block < blocks; block++)
        {
            // Each worker alternates the two contenders unit by unit; half the workers start with each, so at any moment
            // about half the units in flight are the contender's.
            for (int w = 0; w < concurrency; w++)
            {
                workers[w] = WorkerAsync(contender, baseline, pairsPerWorker, contenderFirst: (block + w) % 2 == 0,
                    contenderUnits.AsMemory(w * pairsPerWorker, pairsPerWorker), baselineUnits.AsMemory(w * pairsPerWorker, pairsPerWorker));
            }

            long contenderTicks = 0, baselineTicks = 0;
            foreach ((long c, long b) in await Task.WhenAll(workers).ConfigureAwait(false))
            {
                contenderTicks += c;
                baselineTicks += b;
            }

            ratios[block] = (double)baselineTicks / contenderTicks;
            unitMedianRatios[block] = Throughput.Median(baselineUnits.Select(t => (double)t)) / Throughput.Median(contenderUnits.Select(t => (double)t));
            contenderTotal += contenderTicks;
            baselineTotal += baselineTicks;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  paired {contender.Provider} c={concurrency} {contender.Name} vs {baseline.Name} block {block + 1}: {ratios[block]:0.000}"));
        }

        double units = blocks * (double)pairsPerWorker * concurrency;
        double perUnit(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency / units;
        return new Result(contender.Name, baseline.Name, ratios, unitMedianRatios, perUnit(contenderTotal), perUnit(baselineTotal));
    }


    private static async Task<(long Contender, long Baseline)> WorkerAsync(UnitOfWork contender, UnitOfWork baseline, int pairs, bool contenderFirst, Memory<long> contenderUnits, Memory<long> baselineUnits)
    {
        await Task.Yield(); // start the workers side by side

        long contenderTicks = 0, baselineTicks = 0;
        UnitOfWork first = contenderFirst ? contender : baseline;
        UnitOfWork second = contenderFirst ? baseline : contender;
        for (int i = 0; i < pairs; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await first.RunAsync(CancellationToken.None).ConfigureAwait(false);
            long t1 = Stopwatch.GetTimestamp();
            await second.RunAsync(CancellationToken.None).ConfigureAwait(false);
            long t2 = Stopwatch.GetTimestamp();
            (long c, long b) = contenderFirst ? (t1 - t0, t2 - t1) : (t2 - t1, t1 - t0);
            contenderTicks += c;
            baselineTicks += b;
            contenderUnits.Span[i] = c;
            baselineUnits.Span[i] = b;
        }

        return (contenderTicks, baselineTicks);
    }

    public static string Format(string provider, IReadOnlyList<(Result Result, double Target)> results, int concurrency = 1)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"### {provider}, concurrency {concurrency}, units interleaved one by one").AppendLine();
        text.AppendLine("| contender / baseline | median ratio | middle half of blocks | min..max | mean us/unit (contender / baseline) | unit-median ratio (middle half) | target | met (sums / unit medians) |");
        text.AppendLine("|---|---:|---|---|---|---|---:|---|");
        foreach ((Result r, double target) in results)
        {
            double[] sorted = r.BlockRatios.Order().ToArray();
            double median = Throughput.Median(sorted);
            double q1 = sorted[sorted.Length / 4];
            double q3 = sorted[(sorted.Length * 3) / 4];
            double[] unitSorted = r.UnitMedianRatios.Order().ToArray();
            double unitMedian = Throughput.Median(unitSorted);
            text.AppendLine(c, $"| {r.Contender} / {r.Baseline} | **{median:0.000}** | {q1:0.000}..{q3:0.000} | {sorted[0]:0.000}..{sorted[^1]:0.000} | {r.ContenderMicroseconds:0.0} / {r.BaselineMicroseconds:0.0} | **{unitMedian:0.000}** ({unitSorted[unitSorted.Length / 4]:0.000}..{unitSorted[(unitSorted.Length * 3) / 4]:0.000}) | >= {target:0.00} | {(median >= target ? "yes" : "**no**")} / {(unitMedian >= target ? "yes" : "**no**")} |");
        }

        return text.AppendLine().ToString();
    }
}
