using DbCore;

namespace Quickstart;

/// <summary>
/// The whole database layer of this app. With no configuration it uses an embedded SQLite file; set DATABASE_URL
/// (or pass --connection) to use PostgreSQL instead.
/// </summary>
[DatabaseSettings]
[PoolProfile("Production", Size = 10, MaxOverflow = 20)]
[PoolProfile("Development", Size = 5, MaxOverflow = 10)]
public partial class DatabaseSettings
{
    [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
    public string ConnectionString { get; set; } = "Data Source=quickstart.db";
}
