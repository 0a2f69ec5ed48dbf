namespace DbCore.AspNetCore;

/// <summary>How a request's unit of work behaves.</summary>
public sealed class UnitOfWorkOptions
{
    /// <summary>
    /// Runs the whole handler again, on a fresh session, when it (or its commit) fails with a transient DbCore error
    /// (<see cref="DbCoreException.IsTransient"/>: serialization failure, deadlock, a lost connection before COMMIT) and
    /// the response has not started. Off by default: the handler must be safe to run again (no side effects outside the
    /// database, such as sending mail). Minimal APIs only, and only for a session the handler takes as a parameter.
    /// </summary>
    public bool RetryTransientFailures { get; set; }

    /// <summary>How many times the handler may run in all when <see cref="RetryTransientFailures"/> is on (default 3).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The <c>Retry-After</c> of a 503 answer, in seconds (default 1).</summary>
    public int RetryAfterSeconds { get; set; } = 1;
}
