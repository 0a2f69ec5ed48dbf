using System.Diagnostics;
using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Fixed-duration throughput at a given concurrency. The contenders of one provider run in alternating rounds (order
/// A B C D, then D C B A, ...) so the machine's noise and drift fall on all of them; each round reports units/s and
/// bytes allocated per unit (process-wide <see cref="GC.GetTotalAllocatedBytes(bool)"/> delta over the round).
/// </summary>
internal static class Throughput
{
    public sealed record Sample(string Contender, int Round, double UnitsPerSecond, double BytesPerUnit, long Units);

    public sealed record Result(string Provider, int Concurrency, IReadOnlyList<UnitOfWork> Contenders, IReadOnlyList<Sample> Samples)
    {
        public IEnumerable<Sample> Of(string contender) => Samples.Where(s => s.Contender == contender);

        /// <summary>Per-round ratio numerator/denominator (same round, adjacent in time).</summary>
        public double[] Ratios(string numerator, string denominator)
            => Of(numerator).Join(Of(denominator), s => s.Round, s => s.Round, (n, d) => n.UnitsPerSecond / d.UnitsPerSecond).ToArray();
    }

    public static async Task<Result> RunAsync(string provider, UnitOfWork[] contenders, int concurrency, TimeSpan duration, int rounds, TimeSpan warmUp, TextWriter log)
    {
        log.WriteLine($"## {provider}, concurrency {concurrency}: {rounds} rounds x {duration.TotalSeconds:0.#} s per contender");
        foreach (UnitOfWork contender in contenders)
        {
            await MeasureAsync(contender, concurrency, warmUp).ConfigureAwait(false);
        }

        var samples = new List<Sample>();
        for (int round = 1; round <= rounds; round++)
        {
            IEnumerable<UnitOfWork> order = round % 2 == 1 ? contenders : contenders.Reverse();
            foreach (UnitOfWork contender in order)
            {
                (long units, double seconds, long bytes) = await MeasureAsync(contender, concurrency, duration).ConfigureAwait(false);
                var sample = new Sample(contender.Name, round, units / seconds, (double)bytes / units, units);
                samples.Add(sample);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round} {contender.Name,-15} {sample.UnitsPerSecond,9:0} units/s {sample.BytesPerUnit,7:0} B/unit"));
            }
        }

        return new Result(provider, concurrency, contenders, samples);
    }

    private static async Task<(long Units, double Seconds, long Bytes)> MeasureAsync(UnitOfWork contender, int concurrency, TimeSpan duration)
    {
        using var stop = new CancellationTokenSource();
        var counts = new long[concurrency];
        var workers = new Task[concurrency];
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long bytesBefore = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < concurrency; i++)
        {
            workers[i] = WorkerAsync(contender, counts, i, stop.Token);
        }

        stop.CancelAfter(duration);
        await Task.WhenAll(workers).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - bytesBefore;
        return (counts.Sum(), seconds, bytes);
    }

    private static async Task WorkerAsync(UnitOfWork contender, long[] counts, int index, CancellationToken stop)
    {
        await Task.Yield();
        long count = 0;
        while (!stop.IsCancellationRequested)
        {
            // The stop token is only polled: cancelling an in-flight unit would measure cancellation, not units.
            await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
            count++;
        }

        counts[index] = count;
    }

    /// <summary>Markdown: per contender median units/s and B/unit, then per-round ratios against the baseline.</summary>
    public static string Format(Result result, string baseline, IReadOnlyList<(string Numerator, string Denominator, double Target)> ratios)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"### {result.Provider}, concurrency {result.Concurrency}");
        text.AppendLine();
        text.AppendLine("| contender | units/s per round | median units/s | median B/unit | B/unit vs " + baseline + " |");
        text.AppendLine("|---|---|---:|---:|---:|");
        double baseBytes = Median(result.Of(baseline).Select(s => s.BytesPerUnit));
        foreach (UnitOfWork contender in result.Contenders)
        {
            Sample[] samples = result.Of(contender.Name).OrderBy(s => s.Round).ToArray();
            double bytes = Median(samples.Select(s => s.BytesPerUnit));
            text.AppendLine(c, $"| {contender.Name} | {string.Join(" / ", samples.Select(s => s.UnitsPerSecond.ToString("0", c)))} | {Median(samples.Select(s => s.UnitsPerSecond)):0} | {bytes:0} | {bytes - baseBytes:+0;-0;0} |");
        }

        text.AppendLine();
        text.AppendLine("| ratio (same round) | per round | median | min..max | target | met |");
        text.AppendLine("|---|---|---:|---|---:|---|");
        foreach ((string numerator, string denominator, double target) in ratios)
        {
            double[] values = result.Ratios(numerator, denominator);
            if (values.Length == 0)
            {
                continue;
            }

            double median = Median(values);
            text.AppendLine(c, $"| {numerator} / {denominator} | {string.Join(" ", values.Select(v => v.ToString("0.000", c)))} | {median:0.000} | {values.Min():0.000}..{values.Max():0.000} | >= {target:0.00} | {(median >= target ? "yes" : "**no**")} |");
        }

        return text.ToString();
    }

    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
