using DbCore;

namespace Soak;

/// <summary>The soak's database: PostgreSQL, Production retry policy (set from the command line).</summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql, Name = "Bank")]
[PoolProfile("Production", Size = 10, MaxOverflow = 20)]
public partial class BankSettings
{
    [ConnectionString(EnvironmentVariable = "DBCORE_SOAK_CONNECTION_STRING")]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=postgres;Username=postgres";
}
