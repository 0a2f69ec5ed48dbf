using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DbCore.Infrastructure;

/// <summary>
/// The ASP.NET Core health check of one accessor, registered by the generated <c>Add{Name}HealthCheck()</c>. Healthy when
/// the database answers <c>SELECT 1</c> (probed on a connection of its own, outside the app's pool); Degraded, with the
/// reason, when it answers but every pooled connection is in use; the registration's failure status when it does not.
/// Caller cancellation propagates (it is not reported as Unhealthy); a timeout is a failure with the reason.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DatabaseHealthCheck : IHealthCheck
{
    private readonly DatabaseAccessor _accessor;
    private readonly TimeSpan? _timeout;

    /// <summary>Creates the check.</summary>
    /// <param name="accessor">The accessor whose database is probed.</param>
    /// <param name="timeout">How long SELECT 1 may take; <see langword="null"/> uses the accessor's health timeout.</param>
    public DatabaseHealthCheck(DatabaseAccessor accessor, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(accessor);
        _accessor = accessor;
        _timeout = timeout;
    }

    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        HealthCheckRegistration registration = context.Registration;
        TimeSpan timeout = ProbeTimeout(_timeout ?? _accessor.Options.HealthTimeout, registration.Timeout);
        string? reason = await _accessor.ProbeAsync(timeout, cancellationToken).ConfigureAwait(false);
        PoolStatistics statistics = _accessor.GetPoolStatistics();
        var data = new Dictionary<string, object>
        {
            ["provider"] = _accessor.Provider.ToString(),
            ["environment"] = _accessor.Environment,
            ["sessions_in_use"] = statistics.InUse,
            ["callers_waiting"] = statistics.Waiting,
            ["pool_max_size"] = statistics.MaxSize,
        };
        string name = _accessor.Options.Name;
        if (reason is not null)
        {
            return new HealthCheckResult(registration.FailureStatus, $"{name}: {reason}", exception: null, data);
        }

        // Under multiplexing, sessions hold no connection of their own: the session count is no measure of saturation.
        return !_accessor.IsMultiplexing && Saturation(_accessor.Provider, statistics) is { } saturation
            ? HealthCheckResult.Degraded($"{name}: {saturation}", exception: null, data)
            : HealthCheckResult.Healthy($"{name} answered SELECT 1.", data);
    }

    /// <summary>
    /// PostgreSQL: "all N connections in use, M callers waiting" when every connection the pool may open is held by a
    /// session; else null. SQLite has no pool budget (Microsoft.Data.Sqlite opens as many handles as asked), so never.
    /// </summary>
    internal static string? Saturation(DatabaseProvider provider, PoolStatistics statistics)
    {
        if (provider != DatabaseProvider.PostgreSql || statistics.InUse < statistics.MaxSize)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture, $"all {statistics.InUse} connections in use, {statistics.Waiting} {(statistics.Waiting == 1 ? "caller" : "callers")} waiting");
    }

    /// <summary>
    /// HealthCheckService cancels the check's token when the registration's timeout elapses and then reports a generic
    /// "A timeout occurred while running check." Ending the probe slightly earlier (by a tenth, at most 250 ms) makes the
    /// result carry DbCore's reason instead.
    /// </summary>
    internal static TimeSpan ProbeTimeout(TimeSpan timeout, TimeSpan registrationTimeout)
    {
        if (registrationTimeout <= TimeSpan.Zero || registrationTimeout == Timeout.InfiniteTimeSpan)
        {
            return timeout;
        }

        TimeSpan margin = TimeSpan.FromTicks(Math.Min(registrationTimeout.Ticks / 10, TimeSpan.FromMilliseconds(250).Ticks));
        TimeSpan early = registrationTimeout - margin;
        return early < timeout ? early : timeout;
    }
}
