using DbCore.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// Everything the suites share, built once per process: the throwaway PostgreSQL server (the test fixture's code), a
/// bench database, DbCore accessors and the raw / EF Core counterparts with the same pool sizes, and a SQLite file.
/// </summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private static readonly SemaphoreSlim s_gate = new(1, 1);
    private static BenchEnvironment? s_instance;

    private readonly List<IAsyncDisposable> _disposables = [];

    private BenchEnvironment()
    {
    }

    public PostgresServer? Server { get; private set; }

    /// <summary>Why PostgreSQL suites are skipped, or null when the server runs.</summary>
    public string? PostgresUnavailableReason { get; private set; }

    public bool HasPostgres => PostgresUnavailableReason is null;

    /// <summary>Keyword connection string of the bench database (pooling settings not applied).</summary>
    public string PostgresConnectionString { get; private set; } = "";

    public string SqliteDirectory { get; private set; } = "";

    public PgBench PgDatabase { get; private set; } = null!;

    /// <summary>The <c>Auto</c> accessor on the same PostgreSQL database (its own pool, the same sizes), for <c>dbcore-query-auto</c>.</summary>
    public AutoBench AutoDatabase { get; private set; } = null!;

    public NpgsqlDataSource RawDataSource { get; private set; } = null!;

    public PooledDbContextFactory<BenchContext> EfFactory { get; private set; } = null!;

    public SqliteBench SqliteDatabase { get; private set; } = null!;

    /// <summary>The <c>Auto</c> accessor on the same SQLite file, for <c>dbcore-query-auto</c> on SQLite.</summary>
    public AutoBench AutoSqliteDatabase { get; private set; } = null!;

    /// <summary>The connection string DbCore's SQLite data source uses; the raw side uses the same one.</summary>
    public string SqliteConnectionString { get; private set; } = "";

    public UnitOfWork[] PostgresUnits { get; private set; } = [];

    public UnitOfWork[] SqliteUnits { get; private set; } = [];

    /// <summary>Npgsql keywords appended to every PostgreSQL contender's connection string (<c>--pg-keywords</c>), or null.</summary>
    public static string? ExtraPostgresKeywords { get; set; }

    public static async Task<BenchEnvironment> GetAsync()
    {
        await s_gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (s_instance is null)
            {
                var environment = new BenchEnvironment();
                await environment.InitializeAsync().ConfigureAwait(false);
                s_instance = environment;
            }

            return s_instance;
        }
        finally
        {
            s_gate.Release();
        }
    }

    /// <summary>
    /// An environment with the SQLite bench only (no PostgreSQL server): what the instruction-count child runs under
    /// valgrind, where starting and seeding a server would only add setup time.
    /// </summary>
    public static BenchEnvironment CreateSqliteOnly()
    {
        var environment = new BenchEnvironment { PostgresUnavailableReason = "not started (SQLite only)" };
        environment.InitializeSqlite();
        return environment;
    }

    /// <summary>Disposes the shared instance, if any (stops the server).</summary>
    public static async Task ShutdownAsync()
    {
        BenchEnvironment? instance = Interlocked.Exchange(ref s_instance, null);
        if (instance is not null)
        {
            await instance.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A new PostgreSQL accessor on the bench database (its own pool), as an app would build at start.</summary>
    public PgBench CreatePgDatabase(bool warmUp = false)
    {
        var settings = new PgBenchSettings { ConnectionString = PostgresConnectionString };
        settings.Pool.WarmUp = warmUp;
        return new PgBench(settings, environment: "Production");
    }

    /// <summary>Raw Npgsql with exactly the pool settings DbCore derives from <paramref name="pool"/>.</summary>
    public NpgsqlDataSource CreateRawDataSource(PoolOptions pool)
    {
        var builder = new NpgsqlDataSourceBuilder(PostgresConnectionString);
        builder.ConnectionStringBuilder.MinPoolSize = pool.Size;
        builder.ConnectionStringBuilder.MaxPoolSize = pool.MaxSize;
        builder.ConnectionStringBuilder.Timeout = (int)pool.AcquireTimeout.TotalSeconds;
        builder.ConnectionStringBuilder.ConnectionLifetime = (int)pool.Recycle.TotalSeconds;
        builder.ConnectionStringBuilder.ConnectionIdleLifetime = (int)pool.Idle.TotalSeconds;
        builder.ConnectionStringBuilder.CommandTimeout = 30;
        return builder.Build();
    }

    /// <summary>
    /// The query contenders (issue 13) per provider and shape, after creating and filling <c>world</c> in both databases.
    /// Every PostgreSQL contender uses DbCore's own data source (one pool); every SQLite contender DbCore's connection string.
    /// </summary>
    public async Task<(QueryShape Shape, QueryUnit[] Postgres, QueryUnit[] Sqlite)[]> CreateQueryUnitsAsync()
    {
        await QueryContenders.SeedSqliteAsync(SqliteConnectionString).ConfigureAwait(false);
        var sqliteEf = new PooledDbContextFactory<SqliteWorldContext>(
            new DbContextOptionsBuilder<SqliteWorldContext>().UseSqlite(SqliteConnectionString).Options, poolSize: 1024);
        NpgsqlDataSource? pgSource = null;
        PooledDbContextFactory<PgWorldContext>? pgEf = null;
        if (HasPostgres)
        {
            pgSource = PgDatabase.DataSource as NpgsqlDataSource ?? throw new InvalidOperationException("DbCore's PostgreSQL data source is no NpgsqlDataSource.");
            await QueryContenders.SeedPostgresAsync(pgSource).ConfigureAwait(false);
            pgEf = new PooledDbContextFactory<PgWorldContext>(new DbContextOptionsBuilder<PgWorldContext>().UseNpgsql(pgSource).Options, poolSize: 1024);
        }

        return [.. new[] { QueryShape.Lookup, QueryShape.List }.Select(shape => (
            shape,
            pgSource is null ? [] : QueryContenders.Postgres(PgDatabase, AutoDatabase, pgSource, pgEf!, shape),
            QueryContenders.Sqlite(SqliteDatabase, AutoSqliteDatabase, SqliteConnectionString, sqliteEf, shape)))];
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync().ConfigureAwait(false);
        }

        SqliteConnection.ClearAllPools();
        if (Server is not null)
        {
            await Server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            if (SqliteDirectory.Length > 0)
            {
                Directory.Delete(SqliteDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private async Task InitializeAsync()
    {
        InitializeSqlite();
        await InitializePostgresAsync().ConfigureAwait(false);
    }

    private void InitializeSqlite()
    {
        SqliteDirectory = Path.Combine(Path.GetTempPath(), "dbcore-bench-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(SqliteDirectory);
        SqliteDatabase = new SqliteBench(new SqliteBenchSettings { ConnectionString = "Data Source=" + Path.Combine(SqliteDirectory, "bench.db") }, environment: "Production");
        _disposables.Add(SqliteDatabase);
        SqliteConnectionString = SqliteDatabase.DataSource.ConnectionString;
        AutoSqliteDatabase = new AutoBench(new AutoBenchSettings { ConnectionString = "Data Source=" + Path.Combine(SqliteDirectory, "bench.db") }, environment: "Production");
        _disposables.Add(AutoSqliteDatabase);
        SqliteUnits =
        [
            new RawSqliteUnit(SqliteConnectionString),
            new DbCoreSqliteExecuteUnit(SqliteDatabase),
            new DbCoreSqliteSessionUnit(SqliteDatabase),
        ];

        // DbCore switches the file to WAL on first use; do it now (with the table the write units update) so the raw side
        // measures the same file mode.
        SqliteDatabase.ExecuteAsync(static async (session, ct) =>
        {
            await using SqliteCommand create = session.CreateCommand(BenchSql.CreateTable);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await using SqliteCommand seed = session.CreateCommand(BenchSql.Seed());
            await seed.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }).GetAwaiter().GetResult();
        SqliteUnits[1].RunAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    private async Task InitializePostgresAsync()
    {
        var server = new PostgresServer();
        await server.InitializeAsync().ConfigureAwait(false);
        if (!server.IsAvailable)
        {
            PostgresUnavailableReason = server.UnavailableReason ?? "the server did not start";
            return;
        }

        Server = server;
        PostgresConnectionString = await server.CreateDatabaseAsync("bench").ConfigureAwait(false);
        if (ExtraPostgresKeywords is { Length: > 0 } extra)
        {
            // --pg-keywords: the same Npgsql keywords for every PostgreSQL contender (one connection string for all).
            PostgresConnectionString += ";" + extra;
        }
        await using (var setup = new NpgsqlConnection(PostgresConnectionString))
        {
            await setup.OpenAsync().ConfigureAwait(false);
            await using var create = new NpgsqlCommand(BenchSql.CreateTable + "; " + BenchSql.Seed(), setup);
            await create.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        PgDatabase = CreatePgDatabase();
        _disposables.Add(PgDatabase);
        AutoDatabase = new AutoBench(new AutoBenchSettings { ConnectionString = PostgresConnectionString }, environment: "Production");
        _disposables.Add(AutoDatabase);
        RawDataSource = CreateRawDataSource(PgDatabase.Pool);
        _disposables.Add(RawDataSource);

        NpgsqlDataSource efDataSource = CreateRawDataSource(PgDatabase.Pool);
        _disposables.Add(efDataSource);
        DbContextOptions<BenchContext> options = new DbContextOptionsBuilder<BenchContext>().UseNpgsql(efDataSource).Options;
        EfFactory = new PooledDbContextFactory<BenchContext>(options, poolSize: 1024);

        PostgresUnits =
        [
            new RawNpgsqlUnit(RawDataSource),
            new DbCoreExecuteUnit(PgDatabase),
            new DbCoreSessionUnit(PgDatabase),
            new EfCoreUnit(EfFactory),
            new RawNpgsqlReadUnit(RawDataSource),
            new DbCoreReadUnit(PgDatabase),
        ];
    }
}
