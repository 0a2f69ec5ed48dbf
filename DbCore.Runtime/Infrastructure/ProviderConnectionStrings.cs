using System;
using System.Globalization;
using System.Threading;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Infrastructure;

/// <summary>Maps the resolved options onto each provider's connection string builder.</summary>
internal static partial class ProviderConnectionStrings
{
    private static int s_memoryCounter;

    /// <summary>
    /// Size -> Minimum Pool Size, Size + MaxOverflow -> Maximum Pool Size, AcquireTimeout -> Timeout, Recycle -> Connection
    /// Lifetime, Idle -> Connection Idle Lifetime, CommandTimeout -> Command Timeout. The resolved options already honour
    /// those keywords when the connection string sets them (over the profile; Pool:* keys win over both, see
    /// <see cref="ConnectionStringPool"/>), so the pool is what the options and GetPoolStatistics() say.
    /// </summary>
    public static void ApplyPostgres(NpgsqlConnectionStringBuilder builder, DatabaseOptions options)
    {
        PoolOptions pool = options.Pool;
        builder.MinPoolSize = pool.Size;
        builder.MaxPoolSize = pool.MaxSize;
        builder.Timeout = (int)pool.AcquireTimeout.TotalSeconds;
        builder.ConnectionLifetime = (int)pool.Recycle.TotalSeconds;
        builder.ConnectionIdleLifetime = (int)pool.Idle.TotalSeconds;
        builder.CommandTimeout = (int)options.CommandTimeout.TotalSeconds;
    }

    /// <summary>
    /// Files keep Microsoft.Data.Sqlite's pooling on and get the command timeout as the busy wait (Default Timeout).
    /// <c>:memory:</c> becomes a named shared-cache database unique to the accessor.
    /// </summary>
    public static SqliteConnectionStringBuilder BuildSqlite(DatabaseOptions options)
    {
        var builder = new SqliteConnectionStringBuilder(options.ParsedConnectionString.Normalized);
        if (options.ParsedConnectionString.IsInMemory || builder.DataSource == ":memory:")
        {
            int id = Interlocked.Increment(ref s_memoryCounter);
            builder.DataSource = string.Create(CultureInfo.InvariantCulture, $"dbcore-{options.Name}-{Environment.ProcessId}-{id}-{Guid.NewGuid():N}");
            builder.Mode = SqliteOpenMode.Memory;
            builder.Cache = SqliteCacheMode.Shared;
        }

        builder.DefaultTimeout = (int)options.CommandTimeout.TotalSeconds;
        return builder;
    }
}
