using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DbCore.Benchmarks.Harness;
using DbCore.Benchmarks.Infrastructure;
using DbCore.Benchmarks.Suites;
using Npgsql;
using Perfolizer.Horology;

namespace DbCore.Benchmarks;

/// <summary>
/// DbCore's performance suite. Parts (<c>--only</c>, comma separated; default all, in this order):
/// <c>throughput</c> (alternating rounds at concurrency 1 and 32), <c>paired</c> (units interleaved one by one at
/// concurrency 1 and 32, the noise-robust ratio), <c>queries</c> (typed query methods vs hand-written ADO.NET, Dapper,
/// Dapper.AOT and EF Core: lookup and 20-row list, all interleaved; concurrency 1 unless <c>--concurrency</c>), <c>roundtrips</c> (server-side statement count),
/// <c>warmup</c> (first-request latency), <c>startup</c> (fresh processes: BuildServiceProvider to the first unit),
/// <c>bdn</c> (BenchmarkDotNet: units of work and the generator). Opt-in, only when named: <c>queries-ablation</c>,
/// <c>startup-r2r</c> (the same on the probe published with ReadyToRun, beside a plain publish of it),
/// <c>startup-aot</c> (the startup part on a NativeAOT-published probe, benchmarks/DbCore.StartupProbe; the publish
/// takes a minute or two), <c>snapshot</c> (the generator and the analyzer with 200 queries and their dbcore.queries.json),
/// <c>allocations</c> (sampled allocations by type per unit of work, to find what DbCore allocates over raw) and
/// <c>instructions</c> (instructions per SQLite unit under callgrind: a count the machine's load does not move).
/// <c>--quick</c> runs everything in under two minutes; <c>--out FILE</c> writes the markdown report.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 4 && args[0] == "--startup-child")
        {
            using JitProfile? jit = JitProfile.StartIfAsked();
            int exitCode = await StartupChild.RunAsync(args[1], args[2], args[3]).ConfigureAwait(false);
            jit?.Print();
            return exitCode;
        }

        if (args.Length == 3 && args[0] == Instructions.ChildFlag)
        {
            return await Instructions.RunChildAsync(args[1], int.Parse(args[2], CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }

        Options options = Options.Parse(args);
        var report = new StringBuilder();
        TextWriter log = Console.Out;
        var total = Stopwatch.StartNew();
        try
        {
            BenchEnvironment environment = await BenchEnvironment.GetAsync().ConfigureAwait(false);
            report.AppendLine(await DescribeMachineAsync(environment, options).ConfigureAwait(false));
            if (!environment.HasPostgres)
            {
                log.WriteLine("PostgreSQL suites skipped: " + environment.PostgresUnavailableReason);
                report.AppendLine("PostgreSQL suites skipped: " + environment.PostgresUnavailableReason).AppendLine();
            }

            if (options.Runs("throughput"))
            {
                report.AppendLine("## Throughput (units of work per second, alternating rounds)").AppendLine();
                foreach (int concurrency in options.Concurrency)
                {
                    if (environment.HasPostgres && options.RunsProvider("postgresql"))
                    {
                        Throughput.Result pg = await Throughput.RunAsync("PostgreSQL", environment.PostgresUnits, concurrency, options.Duration, options.Rounds, options.WarmUp, log).ConfigureAwait(false);
                        report.AppendLine(Throughput.Format(pg, "raw-npgsql",
                        [
                            ("dbcore-execute", "raw-npgsql", 0.97),
                            ("dbcore-session", "raw-npgsql", 0.97),
                            ("dbcore-read", "raw-npgsql-read", 0.97),
                            ("dbcore-execute", "efcore-pooled", 1.5),
                            ("dbcore-session", "efcore-pooled", 1.5),
                        ]));
                    }

                    if (options.RunsProvider("sqlite"))
                    {
                        Throughput.Result sqlite = await Throughput.RunAsync("SQLite", environment.SqliteUnits, concurrency, options.Duration, options.Rounds, options.WarmUp, log).ConfigureAwait(false);
                        report.AppendLine(Throughput.Format(sqlite, "raw-sqlite",
                        [
                            ("dbcore-execute", "raw-sqlite", 0.97),
                            ("dbcore-session", "raw-sqlite", 0.97),
                        ]));
                    }
                }
            }

            if (options.Runs("paired"))
            {
                report.AppendLine("## Paired (unit-by-unit interleaving, the machine's noise cancels)").AppendLine();
                int blocks = options.Quick ? 6 : 20;
                int units = options.Quick ? 200 : 500;
                UnitOfWork Find(UnitOfWork[] units, string name) => units.First(u => u.Name == name);
                foreach (int concurrency in options.Concurrency)
                {
                    if (environment.HasPostgres && options.RunsProvider("postgresql"))
                    {
                        UnitOfWork[] pg = environment.PostgresUnits;
                        int pgUnits = units * Math.Max(1, concurrency / 4);
                        report.AppendLine(Paired.Format("PostgreSQL",
                        [
                            (await Paired.RunAsync(Find(pg, "dbcore-execute"), Find(pg, "raw-npgsql"), blocks, pgUnits, log, concurrency).ConfigureAwait(false), 0.97),
                            (await Paired.RunAsync(Find(pg, "dbcore-session"), Find(pg, "raw-npgsql"), blocks, pgUnits, log, concurrency).ConfigureAwait(false), 0.97),
                            (await Paired.RunAsync(Find(pg, "dbcore-read"), Find(pg, "raw-npgsql-read"), blocks, pgUnits, log, concurrency).ConfigureAwait(false), 0.97),
                            (await Paired.RunAsync(Find(pg, "dbcore-execute"), Find(pg, "efcore-pooled"), blocks, pgUnits, log, concurrency).ConfigureAwait(false), 1.5),
                        ], concurrency));
                    }

                    if (options.RunsProvider("sqlite"))
                    {
                        UnitOfWork[] sqlite = environment.SqliteUnits;
                        report.AppendLine(Paired.Format("SQLite",
                        [
                            (await Paired.RunAsync(Find(sqlite, "dbcore-execute"), Find(sqlite, "raw-sqlite"), blocks, units * 4, log, concurrency).ConfigureAwait(false), 0.97),
                            (await Paired.RunAsync(Find(sqlite, "dbcore-session"), Find(sqlite, "raw-sqlite"), blocks, units * 4, log, concurrency).ConfigureAwait(false), 0.97),
                        ], concurrency));
                    }
                }
            }

            if (options.Runs("queries"))
            {
                await RunQueriesAsync(environment, options, report, log).ConfigureAwait(false);
            }

            // Not in the default set: where the typed query method's own cost goes, step by step (SQLite).
            if (options.Parts.Contains("queries-ablation"))
            {
                await RunQueryAblationAsync(environment, options, report, log).ConfigureAwait(false);
            }

            if (options.Runs("roundtrips") && environment.HasPostgres)
            {
                report.AppendLine("## Round trips").AppendLine();
                report.AppendLine(await RoundTrips.RunAsync(environment, options.Quick ? 200 : 1000, log).ConfigureAwait(false));
            }

            if (options.Runs("warmup") && environment.HasPostgres)
            {
                report.AppendLine("## Pool:WarmUp").AppendLine();
                report.AppendLine(await WarmUpLatency.RunAsync(environment, options.Quick ? 2 : 5, log).ConfigureAwait(false));
            }

            if (options.Runs("startup"))
            {
                report.AppendLine("## Startup").AppendLine();
                report.AppendLine(await Startup.RunAsync(environment, options.Quick ? 3 : 7, log).ConfigureAwait(false));
            }

            // Not in the default set (it publishes the probe with NativeAOT first): the same startup samples, native.
            if (options.Parts.Contains("startup-aot"))
            {
                report.AppendLine("## Startup, NativeAOT").AppendLine();
                report.AppendLine(await Startup.RunAotAsync(environment, options.Quick ? 3 : 7, log).ConfigureAwait(false));
            }

            // Not in the default set either (two publishes first): the same samples on a ReadyToRun probe beside a plain one.
            if (options.Parts.Contains("startup-r2r"))
            {
                report.AppendLine("## Startup, ReadyToRun").AppendLine();
                report.AppendLine(await Startup.RunReadyToRunAsync(environment, options.Quick ? 3 : 7, log).ConfigureAwait(false));
            }

            if (options.Parts.Contains("allocations"))
            {
                report.AppendLine("## Allocations by type (sampled)").AppendLine();
                int units = options.Quick ? 20_000 : 100_000;
                foreach (int concurrency in options.Concurrency)
                {
                    // The Task<T> form of ExecuteAsync too, beside raw code returning the same result from its own async method.
                    UnitOfWork[] contenders = [.. (environment.HasPostgres && options.RunsProvider("postgresql") ? [.. environment.PostgresUnits, new RawNpgsqlResultUnit(environment.RawDataSource), new DbCoreExecuteResultUnit(environment.PgDatabase)] : Array.Empty<UnitOfWork>()),
                        .. (options.RunsProvider("sqlite") ? [.. environment.SqliteUnits, new RawSqliteResultUnit(environment.SqliteConnectionString), new DbCoreSqliteExecuteResultUnit(environment.SqliteDatabase)] : Array.Empty<UnitOfWork>())];
                    foreach (UnitOfWork contender in contenders.Where(u => !u.Name.StartsWith("efcore", StringComparison.Ordinal)))
                    {
                        report.AppendLine(await Allocations.ProfileAsync(contender, concurrency, units, log).ConfigureAwait(false));
                    }
                }

                // Issue 13's allocation target, by type: the typed query methods beside hand-written ADO.NET (both shapes, c=1).
                foreach ((QueryShape _, QueryUnit[] pg, QueryUnit[] sqlite) in await environment.CreateQueryUnitsAsync().ConfigureAwait(false))
                {
                    foreach (QueryUnit contender in pg.Concat(sqlite).Where(u => options.RunsProvider(u.Provider) && u.Name is "raw-ado" or "dbcore-query" or "dbcore-query-vt"))
                    {
                        report.AppendLine(await Allocations.ProfileAsync(contender, 1, units, log).ConfigureAwait(false));
                    }
                }
            }

            // Not in the default set (valgrind, minutes): instructions per SQLite unit, a count that load does not move.
            if (options.Parts.Contains("instructions"))
            {
                report.AppendLine("## Instructions per unit (callgrind)").AppendLine();
                report.AppendLine(await Instructions.RunAsync(options.Quick ? 500 : 2000, log).ConfigureAwait(false));
            }

            if (options.Parts.Contains("snapshot"))
            {
                report.AppendLine("## Checked queries: generator and analyzer with a 200-query snapshot").AppendLine();
                report.AppendLine("Caching check: " + QuerySnapshotBenchmarks.VerifyCaching()).AppendLine();
                report.AppendLine(QuerySnapshotBenchmarks.FreshCompilationKeystrokes());
                foreach (Summary summary in RunBenchmarkDotNet([typeof(QuerySnapshotBenchmarks)], options))
                {
                    report.AppendLine(RenderSummary(summary));
                }
            }

            if (options.Runs("bdn"))
            {
                report.AppendLine("## BenchmarkDotNet").AppendLine();
                report.AppendLine("Caching check: " + GeneratorBenchmarks.VerifyCaching(GeneratorBenchmarks.CreateCompilation(), GeneratorBenchmarks.AddUnrelatedEdit(GeneratorBenchmarks.CreateCompilation()))).AppendLine();
                var types = new List<Type>();
                if (environment.HasPostgres)
                {
                    types.Add(typeof(PostgresUnitOfWorkBenchmarks));
                }

                types.Add(typeof(SqliteUnitOfWorkBenchmarks));
                types.Add(typeof(GeneratorBenchmarks));
                foreach (Summary summary in RunBenchmarkDotNet(types, options))
                {
                    report.AppendLine(RenderSummary(summary));
                }
            }
        }
        finally
        {
            await BenchEnvironment.ShutdownAsync().ConfigureAwait(false);
            Startup.DeletePublishedProbes();
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"Whole run: {total.Elapsed.TotalSeconds:0} s.");
        log.WriteLine();
        log.WriteLine(report.ToString());
        if (options.OutputPath is { } path)
        {
            await File.WriteAllTextAsync(path, report.ToString()).ConfigureAwait(false);
            log.WriteLine("Report written to " + Path.GetFullPath(path));
        }

        return 0;
    }

    /// <summary>Issue 13: the typed query methods against hand-written ADO.NET, Dapper, Dapper.AOT and EF Core.</summary>
    private static async Task RunQueriesAsync(BenchEnvironment environment, Options options, StringBuilder report, TextWriter log)
    {
        report.AppendLine("## Typed queries (all contenders interleaved unit by unit)").AppendLine();
        int blocks = options.Quick ? 6 : 30;
        int units = options.Quick ? 100 : 400;
        int allocationUnits = options.Quick ? 300 : 2000;
        (QueryShape Shape, QueryUnit[] Postgres, QueryUnit[] Sqlite)[] suites = await environment.CreateQueryUnitsAsync().ConfigureAwait(false);
        var checks = new List<string>();
        var tables = new StringBuilder();
        foreach (int concurrency in options.ExplicitConcurrency ?? [1])
        {
            foreach ((QueryShape shape, QueryUnit[] pg, QueryUnit[] sqlite) in suites)
            {
                foreach (QueryUnit[] contenders in new[] { pg, sqlite })
                {
                    if (contenders.Length == 0 || !options.RunsProvider(contenders[0].Provider))
                    {
                        continue;
                    }

                    string check = await QueryPaired.VerifyAsync(contenders).ConfigureAwait(false);
                    log.WriteLine(check);
                    if (!checks.Contains(check))
                    {
                        checks.Add(check);
                    }

                    QueryPaired.Result result = await QueryPaired.RunAsync(contenders, blocks, units * Math.Max(1, concurrency / 4), concurrency, allocationUnits, log).ConfigureAwait(false);
                    var targets = new List<(string, double, string)>
                    {
                        ("raw-ado", 0.98, "(a) >= 0.98x (b)"),
                        ("dapper", 1.0, "(a) ahead of (c)"),
                        ("dapper-aot", 1.0, "(a) >= (d)"),
                    };
                    if (shape == QueryShape.List)
                    {
                        targets.Add(("efcore-compiled", 1.3, "(a) >= 1.3x (e)"));
                    }

                    // The provider chosen at run time (Auto) runs on its own accessor's pool: its baseline is raw code on that pool.
                    // SQLite has no server to switch: there its baseline is raw-ado itself.
                    (string, string, double, string)[] pairs = contenders.Any(u => u.Name == "raw-ado-auto-pool")
                        ? [("dbcore-query-auto", "raw-ado-auto-pool", 0.98, "(a, Auto) >= 0.98x (b) on its pool")]
                        : contenders.Any(u => u.Name == "dbcore-query-auto") ? [("dbcore-query-auto", "raw-ado", 0.98, "(a, Auto) >= 0.98x (b)")] : [];
                    tables.Append(QueryPaired.Format(result, "raw-ado", "dbcore-query", targets, pairs));
                }
            }
        }

        report.AppendLine("Checked before timing (same rows from every contender, and Dapper.AOT's interception):").AppendLine();
        foreach (string check in checks)
        {
            report.AppendLine("- " + check);
        }

        report.AppendLine().Append(tables);
    }

    /// <summary>The query method's own cost on SQLite, step by step from hand-written ADO.NET in the same session (see <see cref="SqliteAblationUnit"/>).</summary>
    private static async Task RunQueryAblationAsync(BenchEnvironment environment, Options options, StringBuilder report, TextWriter log)
    {
        report.AppendLine("## Typed queries: where the generated method's cost goes (SQLite, steps from hand-written ADO.NET in the same session)").AppendLine();
        await environment.CreateQueryUnitsAsync().ConfigureAwait(false); // creates and fills world
        foreach (QueryShape shape in new[] { QueryShape.Lookup, QueryShape.List })
        {
            QueryUnit[] contenders = SqliteAblationUnit.Create(environment.SqliteDatabase, environment.SqliteConnectionString, shape);
            log.WriteLine(await QueryPaired.VerifyAsync(contenders).ConfigureAwait(false));
            QueryPaired.Result result = await QueryPaired.RunAsync(contenders, options.Quick ? 6 : 20, options.Quick ? 200 : 1000, 1, options.Quick ? 300 : 4000, log).ConfigureAwait(false);
            report.Append(QueryPaired.Format(result, "dbcore-session-ado", "dbcore-query", [("ablation-checks", 0.95, "check: the generated method within 5 % of its hand-written copy")]));
        }
    }

    private static Summary[] RunBenchmarkDotNet(List<Type> types, Options options)
    {
        // In-process: the suites share this process's PostgreSQL server and SQLite file (see BenchEnvironment).
        Job job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(options.Quick ? 1 : 3)
            .WithIterationCount(options.Quick ? 3 : 10)
            .WithIterationTime(TimeInterval.FromMilliseconds(options.Quick ? 100 : 250));
        IConfig config = DefaultConfig.Instance
            .AddJob(job.AsDefault())
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithArtifactsPath(options.ArtifactsPath)
            .WithOptions(ConfigOptions.DisableLogFile);
        return BenchmarkRunner.Run(types.ToArray(), config, options.BenchmarkDotNetArgs);
    }

    private static string RenderSummary(Summary summary)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        var logger = new TextLogger(writer);
        MarkdownExporter.GitHub.ExportToLog(summary, logger);
        return writer.ToString();
    }

    private static async Task<string> DescribeMachineAsync(BenchEnvironment environment, Options options)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
            : RuntimeInformation.ProcessArchitecture.ToString();
        string postgres = "not available";
        if (environment.HasPostgres)
        {
            await using var connection = new NpgsqlConnection(environment.Server!.BuildConnectionString("postgres", pooling: false));
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SHOW server_version", connection);
            postgres = "PostgreSQL " + await command.ExecuteScalarAsync().ConfigureAwait(false) + " on 127.0.0.1 (fixture config: fsync=off, synchronous_commit=off, pg_stat_statements)";
        }

        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"# DbCore benchmark run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC ({(options.Quick ? "quick" : "full")} mode)");
        text.AppendLine();
        text.AppendLine(c, $"- Machine: {Environment.ProcessorCount} logical CPUs (nproc), {cpu}, {RuntimeInformation.OSDescription}");
        text.AppendLine(c, $"- .NET {Environment.Version}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC; {postgres}");
        text.AppendLine(c, $"- Throughput: {options.Rounds} rounds x {options.Duration.TotalSeconds:0.#} s per contender after {options.WarmUp.TotalSeconds:0.#} s warm-up each; B/unit = GC.GetTotalAllocatedBytes(true) delta / units");
        return text.ToString();
    }

    private sealed class Options
    {
        public bool Quick { get; private set; }

        public HashSet<string> Parts { get; } = new(StringComparer.OrdinalIgnoreCase);

        public int Rounds { get; private set; }

        public TimeSpan Duration { get; private set; }

        public TimeSpan WarmUp { get; private set; }

        public string? OutputPath { get; private set; }

        public string ArtifactsPath { get; private set; } = Path.Combine(Path.GetTempPath(), "dbcore-bench-artifacts");

        public string[] BenchmarkDotNetArgs { get; private set; } = [];

        public int[] Concurrency { get; private set; } = [1, 32];

        /// <summary>The <c>--concurrency</c> given, or null (the queries part then runs at concurrency 1 only).</summary>
        public int[]? ExplicitConcurrency { get; private set; }

        public string? Provider { get; private set; }

        public bool Runs(string part) => Parts.Count == 0 || Parts.Contains(part);

        public bool RunsProvider(string provider) => Provider is null || string.Equals(Provider, provider, StringComparison.OrdinalIgnoreCase);

        public static Options Parse(string[] args)
        {
            var options = new Options();
            int? rounds = null;
            double? seconds = null;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick":
                        options.Quick = true;
                        break;
                    case "--only":
                        options.Parts.UnionWith(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                        break;
                    case "--rounds":
                        rounds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                        break;
                    case "--seconds":
                        seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
                        break;
                    case "--concurrency":
                        options.Concurrency = args[++i].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                        options.ExplicitConcurrency = options.Concurrency;
                        break;
                    case "--provider":
                        options.Provider = args[++i];
                        break;
                    case "--pg-keywords":
                        BenchEnvironment.ExtraPostgresKeywords = args[++i];
                        break;
                    case "--out":
                        options.OutputPath = args[++i];
                        break;
                    case "--bdn-artifacts":
                        options.ArtifactsPath = args[++i];
                        break;
                    case "--":
                        options.BenchmarkDotNetArgs = args[(i + 1)..];
                        i = args.Length;
                        break;
                    default:
                        throw new ArgumentException($"Unknown argument '{args[i]}'. Use --quick, --only throughput,paired,queries,roundtrips,warmup,startup,bdn (opt-in, only when named: queries-ablation, startup-aot, startup-r2r, snapshot, allocations), --rounds N, --seconds S, --concurrency 1,32, --provider postgresql|sqlite, --pg-keywords \"Max Auto Prepare=20\", --out FILE, --bdn-artifacts DIR, -- <BenchmarkDotNet args such as --filter>.");
                }
            }

            options.Rounds = rounds ?? (options.Quick ? 3 : 9);
            options.Duration = TimeSpan.FromSeconds(seconds ?? (options.Quick ? 0.75 : 2));
            options.WarmUp = TimeSpan.FromSeconds(options.Quick ? 0.3 : 1);
            return options;
        }
    }
}
