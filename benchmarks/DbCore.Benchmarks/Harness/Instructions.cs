using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Harness;

/// <summary>
/// Instructions per unit of work, counted by <c>valgrind --tool=callgrind</c> (opt-in part <c>instructions</c>, SQLite):
/// a count, not a time, so it does not move with the machine's load. Each contender runs in a fresh child process
/// (<c>--instr-child</c>) twice, with <c>n</c> and <c>3n</c> measured units after the same warm-up; the difference over
/// <c>2n</c> is the per-unit count, with start-up, JIT and warm-up cancelled out. A SQLite unit takes ~15 us, so a 2 % gap
/// is 300 ns; paired timing shows it only as a spread of runs, this shows it as a number.
/// </summary>
/// <remarks>
/// It counts instructions only: not cache misses, branch mispredictions or stalls, and under valgrind the threads run one
/// at a time (concurrency 1 is what it models). The code is fully optimized at first call (<c>TieredCompilation=0</c>), so
/// it is not the dynamic-PGO code a timed run ends with.
/// </remarks>
internal static partial class Instructions
{
    public const string ChildFlag = "--instr-child";

    private const int WarmUpUnits = 4000;

    /// <summary>The child: warms up, runs <paramref name="units"/> units of <paramref name="name"/>, exits.</summary>
    public static async Task<int> RunChildAsync(string name, int units)
    {
        BenchEnvironment environment = BenchEnvironment.CreateSqliteOnly();
        try
        {
            UnitOfWork unit = Contenders(environment).First(u => u.Name == name);
            for (int i = 0; i < WarmUpUnits; i++)
            {
                await unit.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }

            for (int i = 0; i < units; i++)
            {
                await unit.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return 0;
        }
        finally
        {
            await environment.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The parent: counts every SQLite contender and formats the per-unit counts against raw.</summary>
    public static async Task<string> RunAsync(int units, TextWriter log)
    {
        if (!File.Exists("/usr/bin/valgrind"))
        {
            return "Skipped: valgrind is not installed (`apt-get install -y valgrind`).\n";
        }

        string[] names = ["raw-sqlite", "dbcore-execute", "dbcore-session", "raw-sqlite-result", "dbcore-execute-result"];
        var perUnit = new Dictionary<string, double>();
        foreach (string name in names)
        {
            long small = await CountAsync(name, units).ConfigureAwait(false);
            long large = await CountAsync(name, 3 * units).ConfigureAwait(false);
            perUnit[name] = (large - small) / (2.0 * units);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"instructions {name}: {perUnit[name]:F0} per unit ({small} / {large})"));
        }

        var report = new StringBuilder();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"SQLite, concurrency 1, callgrind, ({WarmUpUnits} warm-up units, then {units} and {3 * units}; per unit = difference / {2 * units}; each row against raw's unit of the same shape):")).AppendLine();
        report.AppendLine("| contender | instructions / unit | raw / contender |").AppendLine("|---|---|---|");
        foreach (string name in names)
        {
            // Each DbCore row against raw's unit of the same shape (-result: the work returns the scalar).
            double raw = perUnit[name.EndsWith("-result", StringComparison.Ordinal) ? "raw-sqlite-result" : "raw-sqlite"];
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perUnit[name]:F0} | {raw / perUnit[name]:F3} |"));
        }

        return report.AppendLine().ToString();
    }

    private static UnitOfWork[] Contenders(BenchEnvironment environment) =>
    [
        .. environment.SqliteUnits,
        new RawSqliteResultUnit(environment.SqliteConnectionString),
        new DbCoreSqliteExecuteResultUnit(environment.SqliteDatabase),
    ];

    private static async Task<long> CountAsync(string name, int units)
    {
        var start = new ProcessStartInfo("/usr/bin/valgrind")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--tool=callgrind", "--callgrind-out-file=/dev/null", Environment.ProcessPath!, ChildFlag, name, units.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        // valgrind cannot follow the runtime's double-mapped (write-xor-execute) code pages. The rest makes the count repeat
        // (two runs of 2000 raw units: 0.07 % apart with these, 3 % without): fully optimized JIT at once (no background
        // tier-up landing in the measured units; with tiering, 6000 units counted fewer instructions than 2000), no
        // background GC thread, no thread-pool spinning.
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        start.Environment["DOTNET_TieredCompilation"] = "0";
        start.Environment["DOTNET_gcConcurrent"] = "0";
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("valgrind did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await output.ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        Match match = CollectedPattern().Match(error);
        if (process.ExitCode != 0 || !match.Success)
        {
            throw new InvalidOperationException($"callgrind run of {name} failed (exit {process.ExitCode}): {error[^Math.Min(error.Length, 2000)..]}");
        }

        return long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Collected : ([\d,]+)")]
    private static partial Regex CollectedPattern();
}
