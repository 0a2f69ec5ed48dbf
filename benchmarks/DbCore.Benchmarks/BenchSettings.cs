using DbCore;

namespace DbCore.Benchmarks;

/// <summary>
/// PostgreSQL, pinned, with the seed's Production profile written out: Size 10 + MaxOverflow 20, so the pool is
/// Minimum Pool Size 10 / Maximum Pool Size 30. The raw Npgsql and EF Core sides get the same sizes.
/// </summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]
[PoolProfile("Production", Size = 10, MaxOverflow = 20)]
public partial class PgBenchSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=bench";
}

/// <summary>SQLite, pinned, a pooled file database (WAL), as DbCore configures it.</summary>
[DatabaseSettings(Provider = DatabaseProvider.Sqlite)]
public partial class SqliteBenchSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=bench.db";
}

/// <summary>
/// The provider chosen at run time (<c>Auto</c>, what the README's settings class gets), on the PostgreSQL bench database
/// with the same Production profile: its typed queries are the contender <c>dbcore-query-auto</c>.
/// </summary>
[DatabaseSettings]
[PoolProfile("Production", Size = 10, MaxOverflow = 20)]
public partial class AutoBenchSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=bench";
}
