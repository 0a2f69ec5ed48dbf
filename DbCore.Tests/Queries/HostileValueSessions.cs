using DbCore;

namespace DbCore.Tests.Queries;

// Queries whose values their members cannot hold, on purpose (so these sessions are not verified clean): the typed error
// must name method, column and member, and never quote a secret-looking value.

/// <summary>The hostile-value queries every provider mode runs.</summary>
public interface IHostileQueries
{
    /// <summary>Text that looks like a connection string, read as a decimal (SQLite's FormatException quotes it).</summary>
    Task<decimal> SecretAsDecimalAsync(CancellationToken cancellationToken = default);

    /// <summary>A Unix epoch (an INTEGER, common in SQLite databases) read into a DateTime.</summary>
    Task<List<(long Id, DateTime CreatedAt)>> EpochRowsAsync(CancellationToken cancellationToken = default);

    /// <summary>Two parameters the placeholder matches: the one of its exact name is bound (the other is DBC0102, suppressed).</summary>
    Task<long> UnderscoreTwinsAsync(long ab, long a_b, CancellationToken cancellationToken = default);
}

/// <summary>The PostgreSQL-only hostile values (the SQL casts to PostgreSQL types).</summary>
public interface IHostilePgQueries : IHostileQueries
{
    /// <summary>'24:00:00' is a legal PostgreSQL time ("closes at midnight") that TimeOnly cannot hold.</summary>
    Task<TimeOnly> ClosesAtAsync(CancellationToken cancellationToken = default);

    /// <summary>A date before year 1.</summary>
    Task<DateOnly> BeforeChristAsync(CancellationToken cancellationToken = default);

    /// <summary>An empty text into a char.</summary>
    Task<char> EmptyInitialAsync(CancellationToken cancellationToken = default);
}

[DatabaseSettings(Name = "HostileAny")]
public partial class HostileAnySettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

[DatabaseSettings(Provider = DatabaseProvider.Sqlite, Name = "HostileSqlite")]
public partial class HostileSqliteSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

[DatabaseSettings(Provider = DatabaseProvider.PostgreSql, Name = "HostilePg")]
public partial class HostilePgSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=app";
}

public partial class HostileAnySession : IHostilePgQueries
{
    [Query("SELECT 'Host=db;Password=hunter2' AS amount")]
    public partial Task<decimal> SecretAsDecimalAsync(CancellationToken cancellationToken = default);

    [Query("SELECT 1 AS id, 1700000000 AS created_at")]
    public partial Task<List<(long Id, DateTime CreatedAt)>> EpochRowsAsync(CancellationToken cancellationToken = default);

#pragma warning disable DBC0102 // ab is unused on purpose: @a_b names a_b exactly
    [Query("SELECT CAST(@a_b AS bigint) AS v")]
    public partial Task<long> UnderscoreTwinsAsync(long ab, long a_b, CancellationToken cancellationToken = default);
#pragma warning restore DBC0102

    [Query("SELECT CAST('24:00:00' AS time) AS closes_at")]
    public partial Task<TimeOnly> ClosesAtAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST('0001-01-01 BC' AS date) AS born_on")]
    public partial Task<DateOnly> BeforeChristAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST('' AS text) AS initial")]
    public partial Task<char> EmptyInitialAsync(CancellationToken cancellationToken = default);
}

public partial class HostileSqliteSession : IHostileQueries
{
    [Query("SELECT 'Host=db;Password=hunter2' AS amount")]
    public partial Task<decimal> SecretAsDecimalAsync(CancellationToken cancellationToken = default);

    [Query("SELECT 1 AS id, 1700000000 AS created_at")]
    public partial Task<List<(long Id, DateTime CreatedAt)>> EpochRowsAsync(CancellationToken cancellationToken = default);

#pragma warning disable DBC0102 // ab is unused on purpose: @a_b names a_b exactly
    [Query("SELECT CAST(@a_b AS bigint) AS v")]
    public partial Task<long> UnderscoreTwinsAsync(long ab, long a_b, CancellationToken cancellationToken = default);
#pragma warning restore DBC0102
}

public partial class HostilePgSession : IHostilePgQueries
{
    [Query("SELECT 'Host=db;Password=hunter2' AS amount")]
    public partial Task<decimal> SecretAsDecimalAsync(CancellationToken cancellationToken = default);

    [Query("SELECT 1 AS id, 1700000000 AS created_at")]
    public partial Task<List<(long Id, DateTime CreatedAt)>> EpochRowsAsync(CancellationToken cancellationToken = default);

#pragma warning disable DBC0102 // ab is unused on purpose: @a_b names a_b exactly
    [Query("SELECT CAST(@a_b AS bigint) AS v")]
    public partial Task<long> UnderscoreTwinsAsync(long ab, long a_b, CancellationToken cancellationToken = default);
#pragma warning restore DBC0102

    [Query("SELECT CAST('24:00:00' AS time) AS closes_at")]
    public partial Task<TimeOnly> ClosesAtAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST('0001-01-01 BC' AS date) AS born_on")]
    public partial Task<DateOnly> BeforeChristAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST('' AS text) AS initial")]
    public partial Task<char> EmptyInitialAsync(CancellationToken cancellationToken = default);
}
