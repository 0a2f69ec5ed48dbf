using System;
using Microsoft.Extensions.Logging;

namespace DbCore.Diagnostics;

/// <summary>Every log line DbCore writes, one event id each (documented in docs/observability.md). Never logs a password.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "DatabaseStarted", Level = LogLevel.Information,
        Message = "DbCore {Name} ready: environment {Environment}, provider {Provider}, pool size {PoolSize}, max {PoolMaxSize}, host {Host}, database {Database}")]
    public static partial void Started(ILogger logger, string name, string environment, DatabaseProvider provider, int poolSize, int poolMaxSize, string host, string database);

    /// <summary>
    /// Once per failed unit, at the level its cause deserves: Debug for the application's own exceptions and cancellation,
    /// Information for constraint violations, Warning for other database errors, Error for an unknown commit outcome. The
    /// exception (with its stack trace) is attached from Warning up.
    /// </summary>
    [LoggerMessage(EventId = 2, EventName = "UnitOfWorkRolledBack",
        Message = "DbCore {Name}: unit of work rolled back after {ExceptionType} (attempt {Attempt})")]
    public static partial void RolledBack(ILogger logger, LogLevel level, string name, string exceptionType, int attempt, Exception? exception);

    [LoggerMessage(EventId = 3, EventName = "RollbackFailed", Level = LogLevel.Warning,
        Message = "DbCore {Name}: rollback failed; the connection is discarded")]
    public static partial void RollbackFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(EventId = 4, EventName = "Retrying", Level = LogLevel.Warning,
        Message = "DbCore {Name}: transient {ErrorType} (SQLSTATE {SqlState}) on attempt {Attempt} of {MaxAttempts}; retrying in {DelayMilliseconds} ms")]
    public static partial void Retrying(ILogger logger, string name, string errorType, string? sqlState, int attempt, int maxAttempts, long delayMilliseconds);

    [LoggerMessage(EventId = 5, EventName = "HealthCheckFailed", Level = LogLevel.Warning,
        Message = "DbCore {Name}: health check failed: {Reason}")]
    public static partial void HealthCheckFailed(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 6, EventName = "SessionNotCommitted", Level = LogLevel.Debug,
        Message = "DbCore {Name}: session disposed without commit; rolled back")]
    public static partial void DisposedWithoutCommit(ILogger logger, string name);

    [LoggerMessage(EventId = 7, EventName = "WarmUpCompleted", Level = LogLevel.Information,
        Message = "DbCore {Name}: warmed up {Count} connections in {ElapsedMilliseconds} ms")]
    public static partial void WarmUpCompleted(ILogger logger, string name, int count, long elapsedMilliseconds);

    [LoggerMessage(EventId = 8, EventName = "WarmUpFailed", Level = LogLevel.Warning,
        Message = "DbCore {Name}: warm-up failed after {Count} connections")]
    public static partial void WarmUpFailed(ILogger logger, string name, int count, Exception exception);

    [LoggerMessage(EventId = 9, EventName = "RetriesExhausted", Level = LogLevel.Error,
        Message = "DbCore {Name}: giving up after {Attempts} attempts: {ErrorType} (SQLSTATE {SqlState})")]
    public static partial void RetriesExhausted(ILogger logger, string name, int attempts, string errorType, string? sqlState);

    [LoggerMessage(EventId = 20, EventName = "CommitVerified", Level = LogLevel.Warning,
        Message = "DbCore {Name}: the connection broke during COMMIT; transaction {TransactionId} was verified as {Status} after reconnecting")]
    public static partial void CommitVerified(ILogger logger, string name, long transactionId, string status);

    [LoggerMessage(EventId = 21, EventName = "CommitVerificationFailed", Level = LogLevel.Error,
        Message = "DbCore {Name}: the connection broke during COMMIT and the outcome of transaction {TransactionId} could not be verified ({Status})")]
    public static partial void CommitVerificationFailed(ILogger logger, string name, long transactionId, string status);

    [LoggerMessage(EventId = 30, EventName = "PoolCleared", Level = LogLevel.Warning,
        Message = "DbCore {Name}: {Evidence} (evidence the server went away); idle connections were cleared and host states forgotten")]
    public static partial void PoolCleared(ILogger logger, string name, string evidence);

    [LoggerMessage(EventId = 32, EventName = "PoolKeywordHonoured", Level = LogLevel.Information,
        Message = "{Name}: {Decision}")]
    public static partial void PoolKeywordHonoured(ILogger logger, string name, string decision);

    [LoggerMessage(EventId = 33, EventName = "SqliteConnectionReuseOff", Level = LogLevel.Warning,
        Message = "DbCore {Name}: this Microsoft.Data.Sqlite version has no command list that DbCore can clean up, so SQLite connections are closed at the end of each session again (statements are prepared in every session); report it with the version in use")]
    public static partial void SqliteConnectionReuseOff(ILogger logger, string name);

    [LoggerMessage(EventId = 31, EventName = "DisposeFailedAfterCommit", Level = LogLevel.Warning,
        Message = "DbCore {Name}: the unit of work committed, then returning its connection failed with {ExceptionType}; the unit is not run again")]
    public static partial void DisposeFailedAfterCommit(ILogger logger, string name, string exceptionType, Exception exception);
}
