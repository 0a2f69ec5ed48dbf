using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DbCore.Diagnostics;

/// <summary>The names of DbCore's meter, activity source and instruments (OpenTelemetry style).</summary>
internal static class Telemetry
{
    public const string Name = "DbCore";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(Telemetry).Assembly.GetName().Version?.ToString());

    public static readonly UpDownCounter<long> ActiveSessions =
        Meter.CreateUpDownCounter<long>("dbcore.session.active", "{session}", "Sessions holding a connection.");

    public static readonly Histogram<double> SessionDuration =
        Meter.CreateHistogram<double>("dbcore.session.duration", "s", "Time from acquiring a connection to returning it.");

    public static readonly Histogram<double> AcquireDuration =
        Meter.CreateHistogram<double>("dbcore.connection.acquire.duration", "s", "Time to acquire a connection from the pool.");

    public static readonly Counter<long> Retries =
        Meter.CreateCounter<long>("dbcore.retries", "{retry}", "Units of work run again after a transient failure.");

    public static readonly Counter<long> Rollbacks =
        Meter.CreateCounter<long>("dbcore.rollbacks", "{rollback}", "Units of work rolled back.");

    public const string DbSystemTag = "db.system";
    public const string DbNameTag = "db.namespace";
    public const string EnvironmentTag = "deployment.environment";
    public const string ExecuteActivityName = "DbCore.Execute";
}
