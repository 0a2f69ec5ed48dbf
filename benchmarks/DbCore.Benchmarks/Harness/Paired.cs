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
/// not. A block's ratio is time(baseline) / time(contender) = the contender's relative throughput.
/// </summary>
internal static class Paired
{
    public sealed record Result(string Contender, string Baseline, double[] BlockRatios, double ContenderMicroseconds, double BaselineMicroseconds);

    public static async Task<Result> RunAsync(UnitOfWork contender, UnitOfWork baseline, int blocks, int unitsPerBlock, TextWriter log, int concurrency = 1)
    {
        for (int i = 0; i < 200; i++)
        {
            await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            await baseline.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var ratios = new double[blocks];
        long contenderTotal = 0, baselineTotal = 0;
        int pairsPerWorker = Math.Max(1, unitsPerBlock / concurrency);
        var workers = new Task<(long Contender, long Baseline)>[concurrency];
        for (int block = 0; block < blocks; block++)
        {
            // Each worker alternates the two contenders unit by unit; half the workers start with each, so at any moment
            // about half the units in flight are the contender's.
            for (int w = 0; w < concurrency; w++)
            {
                workers[w] = WorkerAsync(contender, baseline, pairsPerWorker, contenderFirst: (block + w) % 2 == 0);
            }

            long contenderTicks = 0, baselineTicks = 0;
            foreach ((long c, long b) in await Task.WhenAll(workers).ConfigureAwait(false))
            {
                contenderTicks += c;
                baselineTicks += b;
            }

            ratios[block] = (double)baselineTicks / contenderTicks;
            contenderTotal += contenderTicks;
            baselineTotal += baselineTicks;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  paired {contender.Provider} c={concurrency} {contender.Name} vs {baseline.Name} block {block + 1}: {ratios[block]:0.000}"));
        }

        double units = blocks * (double)pairsPerWorker * concurrency;
        double perUnit(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency / units;
        return new Result(contender.Name, baseline.Name, ratios, perUnit(contenderTotal), perUnit(baselineTotal));
    }

    private static async Task<(long Contender, long Baseline)> WorkerAsync(UnitOfWork contender, UnitOfWork baseline, int pairs, bool contenderFirst)
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
            if (contenderFirst)
            {
                contenderTicks += t1 - t0;
                baselineTicks += t2 - t1;
            }
            else
            {
                baselineTicks += t1 - t0;
                contenderTicks += t2 - t1;
            }
        }

        return (contenderTicks, baselineTicks);
    }

    public static string Format(string provider, IReadOnlyList<(Result Result, double Target)> results, int concurrency = 1)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"### {provider}, concurrency {concurrency}, units interleaved one by one").AppendLine();
        text.AppendLine("| contender / baseline | median ratio | middle half of blocks | min..max | mean us/unit (contender / baseline) | target | met |");
        text.AppendLine("|---|---:|---|---|---|---:|---|");
        foreach ((Result r, double target) in results)
        {
            double[] sorted = r.BlockRatios.Order().ToArray();
            double median = Throughput.Median(sorted);
            double q1 = sorted[sorted.Length / 4];
            double q3 = sorted[(sorted.Length * 3) / 4];
            text.AppendLine(c, $"| {r.Contender} / {r.Baseline} | **{median:0.000}** | {q1:0.000}..{q3:0.000} | {sorted[0]:0.000}..{sorted[^1]:0.000} | {r.ContenderMicroseconds:0.0} / {r.BaselineMicroseconds:0.0} | >= {target:0.00} | {(median >= target ? "yes" : "**no**")} |");
        }

        return text.AppendLine().ToString();
    }
}
