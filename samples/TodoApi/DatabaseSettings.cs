using DbCore;

namespace TodoApi;

/// <summary>
/// The app's database. With no configuration it is the SQLite file todo.db next to where the app runs; set
/// <c>ConnectionStrings:Database</c> (e.g. <c>ConnectionStrings__Database</c>) or <c>DATABASE_URL</c> to use PostgreSQL.
/// </summary>
[DatabaseSettings]
public partial class DatabaseSettings
{
    /// <summary>The connection string (keywords or a URL); <c>DATABASE_URL</c> overrides configuration.</summary>
    [ConnectionString(EnvironmentVariable = "DATABASE_URL")]
    public string ConnectionString { get; set; } = "Data Source=todo.db";
}
