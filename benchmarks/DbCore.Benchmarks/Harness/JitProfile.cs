using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Where a startup child's JIT time goes: with <c>DBCORE_STARTUP_JIT=1</c>, listens to the runtime's JIT events
/// (MethodJittingStarted to MethodLoadVerbose) and prints the JIT milliseconds and method count per namespace (DbCore's
/// own methods one by one) after the child's sample. The listener slows the child by about a quarter, so its sample is
/// not comparable with the others; the split is what it is for. Run a child by hand:
/// <c>DBCORE_STARTUP_JIT=1 DbCore.Benchmarks --startup-child sqlite dbcore "Data Source=bench.db"</c>.
/// </summary>
internal sealed class JitProfile : EventListener
{
    private readonly ConcurrentDictionary<long, (DateTime Start, string Key)> _open = new();
    private readonly ConcurrentDictionary<string, (double Ms, int Count)> _byKey = new();

    public static JitProfile? StartIfAsked() => Environment.GetEnvironmentVariable("DBCORE_STARTUP_JIT") == "1" ? new JitProfile() : null;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x10); // JIT keyword
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        // 145: MethodJittingStarted (MethodID, ModuleID, MethodToken, MethodILSize, MethodNamespace, MethodName, ...);
        // 143: MethodLoadVerbose (MethodID, ...), when the method's code is ready.
        if (eventData.EventId == 145 && eventData.Payload is { } started)
        {
            _open[Convert.ToInt64(started[0], CultureInfo.InvariantCulture)] = (eventData.TimeStamp, Key((string)started[4]!, (string)started[5]!));
        }
        else if (eventData.EventId == 143 && eventData.Payload is { } loaded
            && _open.TryRemove(Convert.ToInt64(loaded[0], CultureInfo.InvariantCulture), out (DateTime Start, string Key) open))
        {
            double ms = (eventData.TimeStamp - open.Start).TotalMilliseconds;
            _byKey.AddOrUpdate(open.Key, (ms, 1), (_, v) => (v.Ms + ms, v.Count + 1));
        }
    }

    private static string Key(string type, string method)
    {
        int generic = type.IndexOf('[', StringComparison.Ordinal);
        string name = generic > 0 ? type[..generic] : type;
        if (name.StartsWith("DbCore.", StringComparison.Ordinal) && !name.StartsWith("DbCore.Benchmarks", StringComparison.Ordinal))
        {
            return name + "::" + method;
        }

        return string.Join('.', name.Split('.').Take(2));
    }

    public void Print()
    {
        Thread.Sleep(500); // the runtime's events arrive on their own thread, a little later
        CultureInfo ci = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(ci, $"JIT {_byKey.Values.Sum(v => v.Ms):0.0} ms, {_byKey.Values.Sum(v => v.Count)} methods"));
        foreach (IGrouping<string, KeyValuePair<string, (double Ms, int Count)>> group in _byKey
            .GroupBy(kv => kv.Key.Contains("::", StringComparison.Ordinal) ? "DbCore (runtime)" : kv.Key)
            .OrderByDescending(g => g.Sum(kv => kv.Value.Ms)))
        {
            Console.WriteLine(string.Create(ci, $"  {group.Sum(kv => kv.Value.Ms),7:0.0} ms {group.Sum(kv => kv.Value.Count),5}  {group.Key}"));
        }

        foreach (KeyValuePair<string, (double Ms, int Count)> method in _byKey.Where(kv => kv.Key.Contains("::", StringComparison.Ordinal)).OrderByDescending(kv => kv.Value.Ms).Take(15))
        {
            Console.WriteLine(string.Create(ci, $"    {method.Value.Ms,7:0.0} ms  {method.Key}"));
        }
    }
}
