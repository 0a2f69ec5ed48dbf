using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using DbCore.Benchmarks.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Startup: each sample is a fresh process, so the JIT (or the native image's loading), type loading and the first
/// connection are paid again every time. The child (<see cref="StartupChild"/>) times, on its own stopwatch, from
/// <c>BuildServiceProvider</c> (DbCore) or from creating the <see cref="NpgsqlDataSource"/> / <see cref="SqliteConnection"/>
/// (raw) to the end of the first write unit (BEGIN, one UPDATE, COMMIT); the parent also times the whole process (start
/// to exit). JIT (<c>--only startup</c>): the children are this program with <c>--startup-child</c>. NativeAOT
/// (<c>--only startup-aot</c>, opt-in): the children are benchmarks/DbCore.StartupProbe, published once per run for
/// linux-x64 with <c>PublishAot=true</c> into a temp folder; the same child code, linked into the probe.
/// </summary>
internal static class Startup
{
    private const string BreakdownNote = "Breakdown rows: `dbcore-resolve` = BuildServiceProvider and the accessor resolved, no unit; `dbcore-direct` = no DI container, the accessor made with `new`, then the same first unit.";

    private static readonly Dictionary<(string Kind, bool RawOnly), (string Binary, string Note)> s_probes = [];

    public static async Task<string> RunAsync(BenchEnvironment environment, int samples, TextWriter log)
    {
        string self = typeof(Startup).Assembly.Location;
        Dictionary<(string, string), (List<double> Unit, List<double> Process)> results =
            await MeasureAsync([("dotnet", [self, "--startup-child"], "")], Cases(environment, StartupChild.Sides), samples, "jit", log).ConfigureAwait(false);
        return Format($"### Startup, JIT (median of {samples} fresh processes, ms; min..max)", results);
    }

    /// <summary>
    /// NativeAOT: publishes the probe (once per run; the full probe and its raw-only build), then the same interleaved
    /// samples on the native binaries: raw, dbcore and the breakdown sides on the full probe, and raw on the raw-only one.
    /// </summary>
    public static async Task<string> RunAotAsync(BenchEnvironment environment, int samples, TextWriter log)
    {
        (string probe, string probeNote) = await PublishProbeAsync("aot", rawOnly: false, log).ConfigureAwait(false);
        (string rawProbe, string rawNote) = await PublishProbeAsync("aot", rawOnly: true, log).ConfigureAwait(false);
        const string rawOnlySide = "raw, raw-only binary";
        List<(string Provider, string Side, string ConnectionString)> cases = Cases(environment, StartupChild.Sides);
        foreach (string provider in cases.Select(c => c.Provider).Distinct().ToArray())
        {
            cases.Insert(cases.FindLastIndex(c => c.Provider == provider) + 1, (provider, rawOnlySide, cases.First(c => c.Provider == provider).ConnectionString));
        }

        Dictionary<(string, string), (List<double> Unit, List<double> Process)> results =
            await MeasureAsync([(probe, [], ""), (rawProbe, [], rawOnlySide)], cases, samples, "aot", log).ConfigureAwait(false);
        return Format(
            $"### Startup, NativeAOT (median of {samples} fresh processes, ms; min..max)",
            results,
            $"Full probe (raw and DbCore sides; every row but the raw-only one): {probeNote}",
            $"Raw-only probe (no DbCore, no DI container; the `{rawOnlySide}` rows): {rawNote}",
            "Both are linux-x64 NativeAOT, published with `-p:PublishAot=true -warnaserror`; `libe_sqlite3.so` (SQLitePCLRaw's native SQLite) ships beside each binary and is not in the binary's size.");
    }

    /// <summary>
    /// ReadyToRun: the probe published framework-dependent twice, plain (JIT) and with <c>PublishReadyToRun=true</c>
    /// (crossgen2 precompiles every assembly of the app, DbCore's included), then the same interleaved samples on both: what
    /// an application that cares about JIT startup but does not publish NativeAOT gets.
    /// </summary>
    public static async Task<string> RunReadyToRunAsync(BenchEnvironment environment, int samples, TextWriter log)
    {
        (string jit, string jitNote) = await PublishProbeAsync("jit", rawOnly: false, log).ConfigureAwait(false);
        (string r2r, string r2rNote) = await PublishProbeAsync("r2r", rawOnly: false, log).ConfigureAwait(false);
        const string suffix = ", ReadyToRun";
        List<(string Provider, string Side, string ConnectionString)> cases = [];
        foreach ((string provider, string side, string connectionString) in Cases(environment, StartupChild.Sides))
        {
            cases.Add((provider, side, connectionString));
            cases.Add((provider, side + suffix, connectionString));
        }

        (string, string[], string)[] programs = [(jit, [], ""), .. StartupChild.Sides.Select(side => (r2r, Array.Empty<string>(), side + suffix))];
        Dictionary<(string, string), (List<double> Unit, List<double> Process)> results =
            await MeasureAsync(programs, cases, samples, "r2r", log).ConfigureAwait(false);
        return Format(
            $"### Startup, ReadyToRun beside JIT (median of {samples} fresh processes, ms; min..max)",
            results,
            $"Plain (JIT) probe, the rows without \"{suffix.TrimStart(',', ' ')}\": {jitNote}",
            $"ReadyToRun probe: {r2rNote}",
            "Both linux-x64, framework-dependent (`--self-contained false`), the same code as the JIT part's child.");
    }

    private static List<(string Provider, string Side, string ConnectionString)> Cases(BenchEnvironment environment, string[] sides)
    {
        var cases = new List<(string, string, string)>();
        string sqlite = "Data Source=" + Path.Combine(environment.SqliteDirectory, "bench.db");
        cases.AddRange(sides.Select(side => ("sqlite", side, sqlite)));
        if (environment.HasPostgres)
        {
            cases.AddRange(sides.Select(side => ("postgresql", side, environment.PostgresConnectionString)));
        }

        return cases;
    }

    /// <summary>
    /// <paramref name="programs"/>: the command per side (the one whose side matches, else the first with side ""); a
    /// side's child is given the first word of that side (so <c>raw, raw-only binary</c> runs <c>raw</c>).
    /// </summary>
    private static async Task<Dictionary<(string, string), (List<double> Unit, List<double> Process)>> MeasureAsync(
        (string FileName, string[] Prefix, string Side)[] programs, List<(string Provider, string Side, string ConnectionString)> cases, int samples, string label, TextWriter log)
    {
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
                (string fileName, string[] prefix, _) = programs.Any(p => p.Side == side) ? programs.First(p => p.Side == side) : programs.First(p => p.Side.Length == 0);
                var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (string a in prefix.Concat([provider, side.Split(',')[0], connectionString]))
                {
                    start.ArgumentList.Add(a);
                }

                var wall = Stopwatch.StartNew();
                using Process process = Process.Start(start)!;
                Task<string> error = process.StandardError.ReadToEndAsync();
                string output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
                await process.WaitForExitAsync().ConfigureAwait(false);
                double processMs = wall.Elapsed.TotalMilliseconds;
                string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith(StartupChild.Marker, StringComparison.Ordinal));
                if (process.ExitCode != 0 || line is null)
                {
                    throw new InvalidOperationException($"startup child ({label}) {provider} {side} failed ({process.ExitCode}): {output} {await error.ConfigureAwait(false)}");
                }

                double unitMs = double.Parse(line[StartupChild.Marker.Length..].Trim(), CultureInfo.InvariantCulture);
                results[(provider, side)].Unit.Add(unitMs);
                results[(provider, side)].Process.Add(processMs);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  startup ({label}) {provider} {side} #{i + 1}: first unit {unitMs:0.0} ms, process {processMs:0} ms"));
            }
        }

        return results;
    }

    /// <summary>The table, then <paramref name="notes"/> and the breakdown note as bullets.</summary>
    private static string Format(string title, Dictionary<(string, string), (List<double> Unit, List<double> Process)> results, params string[] notes)
    {
        var text = new StringBuilder();
        CultureInfo ci = CultureInfo.InvariantCulture;
        text.AppendLine(title).AppendLine();
        text.AppendLine("| provider | side | BuildServiceProvider (raw: data source) to first unit done | whole process, start to exit |");
        text.AppendLine("|---|---|---:|---:|");
        foreach (((string provider, string side), (List<double> unit, List<double> proc)) in results)
        {
            text.AppendLine(ci, $"| {provider} | {side} | {Throughput.Median(unit):0.0} ({unit.Min():0.0}..{unit.Max():0.0}) | {Throughput.Median(proc):0} ({proc.Min():0}..{proc.Max():0}) |");
        }

        text.AppendLine();
        foreach (string note in notes.Append(BreakdownNote))
        {
            text.AppendLine("- " + note);
        }

        return text.AppendLine().ToString();
    }

    /// <summary>
    /// <c>dotnet publish</c> of the probe for linux-x64 NativeAOT with warnings as errors, into a temp folder with its own
    /// artifacts path (the worktree's obj/bin folders are not touched, so a solution build beside it is unaffected).
    /// Returns the binary and a line with its size, the publish time and the warning count.
    /// </summary>
    private static async Task<(string Binary, string Note)> PublishProbeAsync(string kind, bool rawOnly, TextWriter log)
    {
        if (s_probes.TryGetValue((kind, rawOnly), out (string Binary, string Note) known) && File.Exists(known.Binary))
        {
            return known;
        }

        string project = FindProbeProject();
        string name = rawOnly ? "DbCore.StartupProbe.Raw" : "DbCore.StartupProbe";
        string root = Path.Combine(Path.GetTempPath(), "dbcore-startup-probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture), kind + "-" + name);
        string output = Path.Combine(root, "out");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] mode = kind switch
        {
            "aot" => ["-p:PublishAot=true"],
            "r2r" => ["--self-contained", "false", "-p:PublishReadyToRun=true"],
            _ => ["--self-contained", "false"],
        };
        List<string> arguments = ["publish", project, "-c", "Release", "-r", "linux-x64", .. mode, "-warnaserror", "-nologo", "-o", output, "--artifacts-path", Path.Combine(root, "artifacts")];
        if (rawOnly)
        {
            arguments.Add("-p:StartupProbeRawOnly=true");
        }

        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        log.WriteLine($"  startup-{kind}: dotnet " + string.Join(' ', arguments));
        var wall = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        string binary = Path.Combine(output, name);
        if (process.ExitCode != 0 || !File.Exists(binary))
        {
            throw new InvalidOperationException($"{kind} publish of {name} failed ({process.ExitCode}): {stdout} {await error.ConfigureAwait(false)}");
        }

        // Distinct: MSBuild repeats each warning in its summary.
        int warnings = stdout.Split('\n').Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct(StringComparer.Ordinal).Count();
        // NativeAOT: the one binary; otherwise the apphost is a stub and DbCore's assembly is what ReadyToRun grows.
        string sized = kind == "aot" ? binary : Path.Combine(output, "DbCore.Runtime.dll");
        long size = new FileInfo(sized).Length;
        string sqlite = Path.Combine(output, "libe_sqlite3.so");
        string native = File.Exists(sqlite) ? string.Create(CultureInfo.InvariantCulture, $" + libe_sqlite3.so {new FileInfo(sqlite).Length} bytes beside it") : "";
        string note = string.Create(CultureInfo.InvariantCulture, $"`{Path.GetFileName(sized)}` {size / (1024.0 * 1024.0):0.00} MiB ({size} bytes){native}, published in {wall.Elapsed.TotalSeconds:0} s with {warnings} warnings.");
        log.WriteLine($"  startup-{kind}: " + note);
        s_probes[(kind, rawOnly)] = (binary, note);
        return (binary, note);
    }

    /// <summary>Deletes this run's published probes (called when the run ends).</summary>
    public static void DeletePublishedProbes()
    {
        string root = Path.Combine(Path.GetTempPath(), "dbcore-startup-probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        s_probes.Clear();
        try
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private static string FindProbeProject([CallerFilePath] string source = "")
    {
        const string relative = "benchmarks/DbCore.StartupProbe/DbCore.StartupProbe.csproj";
        foreach (string? from in new[] { Environment.CurrentDirectory, Path.GetDirectoryName(source) })
        {
            for (string? dir = from; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                string candidate = Path.Combine(dir, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("The startup probe project was not found (run from the repository).", relative);
    }
}
