using BenchmarkDotNet.Attributes;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks.Suites;

/// <summary>
/// One unit of work (open, BEGIN, <c>SELECT 1</c>, COMMIT, close) on the fixture's throwaway PostgreSQL over loopback,
/// sequential. Raw Npgsql is the baseline; every side has Minimum Pool Size 10 / Maximum Pool Size 30.
/// </summary>
public class PostgresUnitOfWorkBenchmarks
{
    private UnitOfWork _raw = null!;
    private UnitOfWork _execute = null!;
    private UnitOfWork _session = null!;
    private UnitOfWork _efCore = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        BenchEnvironment environment = await BenchEnvironment.GetAsync().ConfigureAwait(false);
        if (!environment.HasPostgres)
        {
            throw new InvalidOperationException("PostgreSQL is not available: " + environment.PostgresUnavailableReason);
        }

        (_raw, _execute, _session, _efCore) = (environment.PostgresUnits[0], environment.PostgresUnits[1], environment.PostgresUnits[2], environment.PostgresUnits[3]);
    }

    [Benchmark(Baseline = true)]
    public Task RawNpgsql() => _raw.RunAsync(CancellationToken.None);

    [Benchmark]
    public Task DbCoreExecuteAsync() => _execute.RunAsync(CancellationToken.None);

    [Benchmark]
    public Task DbCoreOpenSessionAsync() => _session.RunAsync(CancellationToken.None);

    [Benchmark]
    public Task EfCorePooled() => _efCore.RunAsync(CancellationToken.None);
}

/// <summary>The same unit of work on a pooled SQLite file database (WAL). Raw Microsoft.Data.Sqlite is the baseline.</summary>
public class SqliteUnitOfWorkBenchmarks
{
    private UnitOfWork _raw = null!;
    private UnitOfWork _execute = null!;
    private UnitOfWork _session = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        BenchEnvironment environment = await BenchEnvironment.GetAsync().ConfigureAwait(false);
        (_raw, _execute, _session) = (environment.SqliteUnits[0], environment.SqliteUnits[1], environment.SqliteUnits[2]);
    }

    [Benchmark(Baseline = true)]
    public Task RawSqlite() => _raw.RunAsync(CancellationToken.None);

    [Benchmark]
    public Task DbCoreExecuteAsync() => _execute.RunAsync(CancellationToken.None);

    [Benchmark]
    public Task DbCoreOpenSessionAsync() => _session.RunAsync(CancellationToken.None);
}
