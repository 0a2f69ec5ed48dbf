using DbCore;

namespace DbCore.WebBench;

/// <summary>
/// The benchmark's database as the README recommends declaring it, pinned to PostgreSQL. Pool: Size 32 + MaxOverflow 32
/// (Minimum Pool Size 32 / Maximum Pool Size 64), so 32 wrk connections never wait for a pooled connection; the raw
/// variant's data source is built from DbCore's own connection string (<see cref="Sql.CreateRawDataSource"/>).
/// </summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]
[PoolProfile("Production", Size = 32, MaxOverflow = 32)]
public partial class WorldDatabaseSettings
{
    /// <summary>Set by the program to the throwaway server's connection string.</summary>
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=hello_world";
}
