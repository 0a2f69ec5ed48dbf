using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using DbCore.Infrastructure;
using Npgsql;

namespace DbCore.Diagnostics;

/// <summary>
/// The names of DbCore's meter, activity source, instruments and tags, following the OpenTelemetry semantic conventions
/// for database clients (docs/observability.md maps each instrument to its <c>db.client.connection.*</c> counterpart).
/// </summary>
internal static class Telemetry
{
    public const string Name = "DbCore";

    // Tags. Every measurement and the unit-of-work span carry the same per-accessor set (DatabaseEngine.Tags).
    public const string DbSystemNameTag = "db.system.name";           // semconv >= 1.30: "postgresql" | "sqlite"
    public const string DbSystemTag = "db.system";                    // the older name, still read by many dashboards
    public const string DbNameTag = "db.namespace";                   // the database name (PostgreSQL database, SQLite file)
    public const string PoolNameTag = "db.client.connection.pool.name"; // the accessor name B, also Npgsql's data source name
    public const string EnvironmentTag = "deployment.environment.name"; // semconv >= 1.27 (was deployment.environment)
    public const string ExecuteActivityName = "DbCore.Execute";

    // Semantic-conventions bucket advice for db.client.connection.wait_time / use_time (seconds, 1 ms .. 10 s).
    private static readonly double[] DurationBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

    // Live engines, for the observable instruments. Weak keys: an accessor that is never disposed is still collected.
    private static readonly ConditionalWeakTable<DatabaseEngine, object?> Engines = new();

    public static readonly ActivitySource ActivitySource = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Sessions holding a connection (semconv: db.client.connection.count with state=used).</summary>
    public static readonly UpDownCounter<long> ActiveSessions =
        Meter.CreateUpDownCounter<long>("dbcore.session.active", "{session}", "Sessions holding a pooled connection.");

    /// <summary>Acquire to release of a session (semconv: db.client.connection.use_time).</summary>
    public static readonly Histogram<double> SessionDuration = Meter.CreateHistogram<double>(
        "dbcore.session.duration", "s", "Time from acquiring a connection for a session to returning it to the pool.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>Time to get an open connection from the pool (semconv: db.client.connection.wait_time).</summary>
    public static readonly Histogram<double> AcquireDuration = Meter.CreateHistogram<double>(
        "dbcore.connection.acquire.duration", "s", "Time to obtain an open connection from the pool.",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });

    /// <summary>Acquire attempts that timed out (semconv: db.client.connection.timeouts).</summary>
    public static readonly Counter<long> AcquireTimeouts =
        Meter.CreateCounter<long>("dbcore.connection.timeouts", "{timeout}", "Attempts to obtain a connection from the pool that timed out.");

    /// <summary>Units of work run again after a transient failure.</summary>
    public static readonly Counter<long> Retries =
        Meter.CreateCounter<long>("dbcore.retries", "{retry}", "Units of work run again after a transient failure.");

    /// <summary>Sessions that ended by rolling back (explicitly, after an exception, or disposed without commit).</summary>
    public static readonly Counter<long> Rollbacks =
        Meter.CreateCounter<long>("dbcore.rollbacks", "{rollback}", "Sessions that ended with a rollback instead of a commit.");

    /// <summary>Callers waiting for a connection (semconv: db.client.connection.pending_requests).</summary>
    public static readonly ObservableUpDownCounter<int> PendingRequests = Meter.CreateObservableUpDownCounter(
        "dbcore.connection.pending_requests", static () => Observe(static e => e.WaitingCount, includeSqlite: true), "{request}",
        "Callers waiting for a connection from the pool.");

    /// <summary>The configured maximum, Size + MaxOverflow (semconv: db.client.connection.max). PostgreSQL only.</summary>
    public static readonly ObservableUpDownCounter<int> MaxConnections = Meter.CreateObservableUpDownCounter(
        "dbcore.connection.max", static () => Observe(static e => e.Options.Pool.MaxSize, includeSqlite: false), "{connection}",
        "The maximum number of open connections allowed (pool size + max overflow).");

    /// <summary>The configured pool size kept open (semconv: db.client.connection.idle.min). PostgreSQL only.</summary>
    public static readonly ObservableUpDownCounter<int> MinIdleConnections = Meter.CreateObservableUpDownCounter(
        "dbcore.connection.idle.min", static () => Observe(static e => e.Options.Pool.Size, includeSqlite: false), "{connection}",
        "The minimum number of connections the pool keeps open (pool size).");

    /// <summary>Makes <paramref name="engine"/> visible to the observable instruments until <see cref="Unregister"/>.</summary>
    public static void Register(DatabaseEngine engine) => Engines.AddOrUpdate(engine, null);

    /// <summary>Removes a disposed engine from the observable instruments.</summary>
    public static void Unregister(DatabaseEngine engine) => Engines.Remove(engine);

    /// <summary>
    /// An exception filter for the acquire path: counts pool/acquire timeouts and returns false, so the exception
    /// propagates untouched (the caller translates it).
    /// </summary>
    public static bool CountAcquireFailure(Exception exception, KeyValuePair<string, object?>[] tags)
    {
        if (exception is NpgsqlException { InnerException: TimeoutException } or PoolExhaustedException && AcquireTimeouts.Enabled)
        {
            AcquireTimeouts.Add(1, tags);
        }

        return false;
    }

    private static IEnumerable<Measurement<int>> Observe(Func<DatabaseEngine, int> value, bool includeSqlite)
    {
        var measurements = new List<Measurement<int>>();
        foreach (KeyValuePair<DatabaseEngine, object?> entry in Engines)
        {
            DatabaseEngine engine = entry.Key;
            if (includeSqlite || engine.Options.Provider == DatabaseProvider.PostgreSql)
            {
                measurements.Add(new Measurement<int>(value(engine), engine.Tags));
            }
        }

        return measurements;
    }
}
