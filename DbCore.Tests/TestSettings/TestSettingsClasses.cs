using DbCore;

namespace DbCore.Tests.TestSettings;

/// <summary>Auto provider, built-in profiles: the README's class.</summary>
[DatabaseSettings]
public partial class DatabaseSettings
{
    [ConnectionString(EnvironmentVariable = "DBCORE_TEST_DATABASE_URL")]
    public string ConnectionString { get; set; } = "Data Source=:memory:";

    public string? ApplicationTag { get; set; }

    public int? MaxRows { get; set; }
}

/// <summary>Pinned to SQLite with declared profiles.</summary>
[DatabaseSettings(Provider = DatabaseProvider.Sqlite, Name = "Local")]
[PoolProfile("Production", Size = 2, MaxOverflow = 3)]
[PoolProfile("Development", Size = 1, MaxOverflow = 1)]
public partial class LocalSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "sqlite:///:memory:";
}

/// <summary>Pinned to PostgreSQL with the seed's profiles written out.</summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]
[PoolProfile("Production", Size = 10, MaxOverflow = 20)]
[PoolProfile("Development", Size = 5, MaxOverflow = 10)]
public partial class PgSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=app";
}

/// <summary>Two settings classes in one project: separate members, one container.</summary>
[DatabaseSettings]
public partial class MainDbSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

/// <summary>The second of the two.</summary>
[DatabaseSettings(SectionName = "Analytics")]
public partial class AnalyticsDbSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

/// <summary>Pinned to PostgreSQL with no default: the connection string must be configured.</summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql, Name = "Required")]
public partial class RequiredSettings
{
    [ConnectionString(EnvironmentVariable = "DBCORE_REQUIRED_TEST_URL")]
    public string ConnectionString { get; set; } = "";
}
