using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Where a unit's bytes go: runs one contender at a concurrency with the runtime's allocation sampling on
/// (GCAllocationTick, one event per ~100 KB allocated, naming the type whose allocation crossed the mark) and reports the
/// sampled types, scaled to bytes per unit. A sample, not an exact count: types under ~1 % of the bytes may not show, and a
/// type's share is right to a few percent over 100k+ units. Used to find what DbCore allocates over raw (`--only allocations`).
/// </summary>
internal static class Allocations
{
    public static async Task<string> ProfileAsync(UnitOfWork contender, int concurrency, int units, TextWriter log)
    {
        // Warm: JIT, pools, type loading.
        await RunAsync(contender, concurrency, Math.Min(units / 10, 2000)).ConfigureAwait(false);
        GC.Collect();
        using var listener = new AllocationListener();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(contender, concurrency, units).ConfigureAwait(false);
        long total = GC.GetTotalAllocatedBytes(precise: true) - before;
        listener.Stop();

        KeyValuePair<string, long>[] byType = listener.Bytes.OrderByDescending(p => p.Value).ToArray();
        long sampled = byType.Sum(p => p.Value);
        CultureInfo c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"#### {contender.Provider} {contender.Name}, concurrency {concurrency}: {(double)total / units:0} B/unit over {units} units ({listener.Samples} samples)");
        text.AppendLine();
        text.AppendLine("| type | est. B/unit | share |");
        text.AppendLine("|---|---:|---:|");
        foreach ((string type, long bytes) in byType.Take(40))
        {
            double share = sampled == 0 ? 0 : (double)bytes / sampled;
            text.AppendLine(c, $"| `{type}` | {share * total / units:0} | {share:P1} |");
        }

        text.AppendLine();
        log.WriteLine(text.ToString());
        return text.ToString();
    }

    private static async Task RunAsync(UnitOfWork contender, int concurrency, int units)
    {
        int remaining = units;
        var workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++)
        {
            workers[i] = Task.Run(async () =>
            {
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    await contender.RunAsync(CancellationToken.None).ConfigureAwait(false);
                }
            });
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    private sealed class AllocationListener : EventListener
    {
        private volatile bool _stopped;

        public ConcurrentDictionary<string, long> Bytes { get; } = new();

        public int Samples;

        public void Stop() => _stopped = true;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick at Verbose
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (_stopped || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
            {
                return;
            }

            int typeIndex = eventData.PayloadNames!.IndexOf("TypeName");
            int amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
            if (typeIndex < 0 || amountIndex < 0)
            {
                return;
            }

            string type = eventData.Payload[typeIndex] as string ?? "?";
            long amount = Convert.ToInt64(eventData.Payload[amountIndex], CultureInfo.InvariantCulture);
            Bytes.AddOrUpdate(type, amount, (_, sum) => sum + amount);
            Interlocked.Increment(ref Samples);
        }
    }
}
