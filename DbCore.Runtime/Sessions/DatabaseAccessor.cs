using System;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Diagnostics;
using DbCore.Errors;
using DbCore.Infrastructure;
using DbCore.Internal;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbCore;

/// <summary>
/// The untyped part of a generated database accessor: configuration, data source, pool statistics and health.
/// Generated accessors derive from <see cref="DatabaseAccessor{TSession}"/>.
/// </summary>
public abstract class DatabaseAccessor : IAsyncDisposable, IDisposable
{
    private protected DatabaseAccessor(DatabaseDefinition definition, IDatabaseSettings settings, string? environment, ILoggerFactory? loggerFactory, ProviderHooks? hooks)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(settings);
        Options = DatabaseOptions.Create(definition, settings, environment);
        Engine = new DatabaseEngine(Options, loggerFactory, hooks);
    }

    /// <summary>The resolved configuration (password redacted in <see cref="object.ToString"/>).</summary>
    public DatabaseOptions Options { get; }

    /// <summary>The environment that chose the pool profile.</summary>
    public string Environment => Options.Environment;

    /// <summary>The provider in use.</summary>
    public DatabaseProvider Provider => Options.Provider;

    /// <summary>The resolved pool configuration.</summary>
    public PoolOptions Pool => Options.Pool;

    /// <summary>The provider data source (the seed's "engine"). Prefer sessions for units of work.</summary>
    public DbDataSource DataSource => Engine.DataSource;

    private protected DatabaseEngine Engine { get; }

    /// <summary>Tests of the COMMIT guard's SAVEPOINT fallback turn this off (see <see cref="DatabaseEngine.ReadsTransactionStatus"/>).</summary>
    internal bool ReadsTransactionStatus
    {
        get => Engine.ReadsTransactionStatus;
        set => Engine.ReadsTransactionStatus = value;
    }

    /// <summary>Whether sessions share physical connections (Npgsql multiplexing); see <see cref="DatabaseEngine.IsMultiplexing"/>.</summary>
    internal bool IsMultiplexing => Engine.IsMultiplexing;

    /// <summary>Live session counts kept by DbCore (the equivalent of SQLAlchemy's <c>pool.status()</c>).</summary>
    public PoolStatistics GetPoolStatistics() => Engine.GetStatistics();

    /// <summary>
    /// True when <c>SELECT 1</c> succeeds within the health timeout; false, with the reason logged, otherwise. It reports
    /// the database, not the pool: the probe runs on a connection of its own, so it is true even when every pooled
    /// connection is busy. Throws only <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task<bool> CheckHealthAsync(CancellationToken cancellationToken = default)
        => (await ProbeAsync(Options.HealthTimeout, cancellationToken).ConfigureAwait(false)) is null;

    /// <summary>Runs <c>SELECT 1</c>; returns null when healthy, else the (redacted) reason.</summary>
    internal async Task<string?> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        string reason;
        try
        {
            // Npgsql does not honour cancellation in every phase of connection establishment (a server that accepts
            // the socket and never answers), so the probe is also abandoned at the timeout; it then ends on its own.
            Task probe = Engine.ProbeAsync(timeout, timeoutSource.Token).AsTask();
            try
            {
                await probe.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _ = probe.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw new OperationCanceledException();
            }

            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            reason = $"no answer to SELECT 1 within {timeout.TotalSeconds:0.###} s";
        }
        catch (Exception ex) when (timeoutSource.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            reason = $"no answer to SELECT 1 within {timeout.TotalSeconds:0.###} s ({ex.GetType().Name})";
        }
        catch (Exception ex)
        {
            reason = $"{ex.GetType().Name}: {Redaction.RedactText(ex.Message)}";
        }

        // Multi-host: a failed probe forgets the cached primary/standby states, so the probe after a failover finds the
        // promoted standby at once instead of after Host Recheck Seconds (it would still be remembered as a standby).
        Engine.ForgetHostStates();
        Log.HealthCheckFailed(Engine.Logger, Engine.Name, reason);
        return reason;
    }

    /// <summary>Opens <see cref="PoolOptions.Size"/> connections and returns them to the pool; returns how many opened.</summary>
    public ValueTask<int> WarmUpAsync(CancellationToken cancellationToken = default) => Engine.WarmUpAsync(cancellationToken);

    /// <summary>Disposes the data source and, for an in-memory SQLite database, the database itself.</summary>
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Engine.DisposeAsync();
    }

    /// <summary>Disposes the data source and, for an in-memory SQLite database, the database itself.</summary>
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        Engine.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() => Options.ToString();
}

/// <summary>
/// The base of a generated accessor: opens typed sessions and runs units of work with commit, rollback on any exception,
/// and retry of transient failures.
/// </summary>
/// <typeparam name="TSession">The generated session type.</typeparam>
public abstract partial class DatabaseAccessor<TSession> : DatabaseAccessor
    where TSession : DbSession
{
    /// <summary>Resolves the options and builds the data source. Called by generated code.</summary>
    /// <param name="definition">The generated definition of the settings class.</param>
    /// <param name="settings">The bound settings.</param>
    /// <param name="environment">The environment name; <see langword="null"/> reads DOTNET_ENVIRONMENT / ASPNETCORE_ENVIRONMENT.</param>
    /// <param name="loggerFactory">Where logs go; <see langword="null"/> for none.</param>
    /// <param name="hooks">Code that configures the provider; <see langword="null"/> for none.</param>
    protected DatabaseAccessor(DatabaseDefinition definition, IDatabaseSettings settings, string? environment, ILoggerFactory? loggerFactory, ProviderHooks? hooks = null)
        : base(definition, settings, environment, loggerFactory, hooks)
    {
    }

    private const string ReadOnlySqlTransaction = "25006";

    /// <summary>Creates the generated session type over <paramref name="engine"/>.</summary>
    protected abstract TSession CreateSession(DatabaseEngine engine);

    /// <summary>A session that opens lazily on first use (what the DI container injects as a scoped service).</summary>
    public TSession CreateSession() => CreateSession(Engine);

    private TSession CreateSession(bool readOnly, bool retryingUnit = false)
    {
        TSession session = CreateSession(Engine);
        session.IsReadOnly = readOnly;
        session.BeginsAtOpen = retryingUnit && !readOnly;
        return session;
    }

    /// <summary>
    /// Opens a session: a pooled connection with a transaction begun. Retries connection failures per the retry policy.
    /// Dispose it; it rolls back unless committed.
    /// </summary>
    public ValueTask<TSession> OpenSessionAsync(CancellationToken cancellationToken = default)
        => OpenSessionCoreAsync(readOnly: false, cancellationToken);

    private ValueTask<TSession> OpenSessionCoreAsync(bool readOnly, CancellationToken cancellationToken)
    {
        // The usual case, an open that completed at once (a pooled SQLite handle, an idle pooled Npgsql connection), needs
        // no async state machine of its own.
        TSession session = CreateSession(readOnly);
        ValueTask open = session.OpenAsync(cancellationToken);
        return open.IsCompletedSuccessfully
            ? new ValueTask<TSession>(session)
            : OpenSessionWithRetryAsync(session, open, readOnly, cancellationToken);
    }

    /// <summary>Awaits the first attempt's open, then retries connection failures per the retry policy.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TSession> OpenSessionWithRetryAsync(TSession session, ValueTask open, bool readOnly, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (attempt > 1)
            {
                session = CreateSession(readOnly);
                open = session.OpenAsync(cancellationToken);
            }

            try
            {
                await open.ConfigureAwait(false);
                return session;
            }
            catch (DbCoreException ex) when (ShouldRetry(ex, attempt, UnitScope.IsActive ? 1 : Options.Retry.MaxAttempts, cancellationToken))
            {
                if (ex is ConnectionFailureException)
                {
                    OnServerUnreachable();
                }

                await BackOffAsync(ex, attempt, null, cancellationToken).ConfigureAwait(false);
            }
            catch (DbCoreException ex)
            {
                ex.Attempts = attempt;
                throw;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> as one unit of work: open, begin, run, commit. Rolls back on any exception and rethrows
    /// it (provider errors as <see cref="DbCoreException"/>). Runs the whole unit again in a new session on transient
    /// failures per the retry policy; never when the commit outcome is unknown.
    /// </summary>
    public Task<T> ExecuteAsync<T>(Func<TSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToResultTask(work, verifyCommit: false, readOnly: false, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as one unit of work: open, begin, run, commit; rolls back on any exception; retries
    /// transient failures per the retry policy.
    /// </summary>
    public Task ExecuteAsync(Func<TSession, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToUnitTask(ExecuteCoreAsync<object?>(null, work, verifyCommit: false, readOnly: false, completedWorkToken: 0, cancellationToken));
    }

    /// <summary>
    /// Like <see cref="ExecuteAsync{T}"/>, but when the connection breaks during COMMIT it reconnects and asks PostgreSQL
    /// whether the transaction committed (<c>txid_status</c>): committed returns the result, not applied retries per the
    /// policy, and only a still unknown outcome throws <see cref="CommitOutcomeUnknownException"/>. Costs one extra round
    /// trip per unit of work (and assigns a transaction id to read-only units). On SQLite it is <see cref="ExecuteAsync{T}"/>.
    /// </summary>
    public Task<T> ExecuteVerifiedAsync<T>(Func<TSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToResultTask(work, verifyCommit: Provider == DatabaseProvider.PostgreSql, readOnly: false, cancellationToken);
    }

    /// <summary>
    /// Like <see cref="ExecuteAsync(Func{TSession, CancellationToken, Task}, CancellationToken)"/>, but resolves a broken
    /// COMMIT by asking PostgreSQL after reconnecting whether it was applied; see <see cref="ExecuteVerifiedAsync{T}"/>.
    /// </summary>
    public Task ExecuteVerifiedAsync(Func<TSession, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ToUnitTask(ExecuteCoreAsync<object?>(null, work, verifyCommit: Provider == DatabaseProvider.PostgreSql, readOnly: false, completedWorkToken: 0, cancellationToken));
    }

    /// <summary>
    /// The Task of a unit without a result: a unit that completed synchronously (SQLite's are) gives the cached completed
    /// Task, with no allocation; its ValueTask is still consumed, so a pooled box goes back to its pool.
    /// </summary>
    private static Task ToUnitTask(ValueTask<object?> unit)
    {
        if (unit.IsCompletedSuccessfully)
        {
            unit.GetAwaiter().GetResult();
            return Task.CompletedTask;
        }

        return unit.AsTask();
    }

    /// <summary>
    /// The Task of a unit with a result: a unit that completed synchronously (SQLite's do) returns its work's own completed
    /// task, which the work's async method already allocated for this result, instead of a second Task for the same result
    /// (72 B a unit); otherwise the unit's ValueTask as a Task.
    /// </summary>
    private Task<T> ToResultTask<T>(Func<TSession, CancellationToken, Task<T>> work, bool verifyCommit, bool readOnly, CancellationToken cancellationToken)
    {
        if (Engine.SqliteConnectionString is null)
        {
            // PostgreSQL: a unit waits for the server, so it never completes synchronously; no slot to open.
            return ExecuteCoreAsync(work, null, verifyCommit, readOnly, completedWorkToken: 0, cancellationToken).AsTask();
        }

        long token = CompletedWork.Begin(out long enclosing);
        ValueTask<T> unit;
        Task<T>? own;
        try
        {
            unit = ExecuteCoreAsync(work, null, verifyCommit, readOnly, token, cancellationToken);
        }
        finally
        {
            own = CompletedWork.End<T>(enclosing);
        }

        if (own is not null && unit.IsCompletedSuccessfully)
        {
            unit.GetAwaiter().GetResult(); // consumes the ValueTask (a pooled box goes back to its pool)
            return own;
        }

        return unit.AsTask();
    }

    // A pooled box: the Task the public methods return is the small ValueTask-as-Task wrapper, not the whole state machine
    // (the Task<T> form on PostgreSQL at concurrency 32: +315 B/unit over raw before, -16..+80 after, same work,
    // `--only allocations`). The price is on the failure path only: the wrapper takes a failed unit's exception by
    // rethrowing it once more (one more first-chance exception), and the stack trace has the wrapper's frames.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<T> ExecuteCoreAsync<T>(Func<TSession, CancellationToken, Task<T>>? typedWork, Func<TSession, CancellationToken, Task>? work, bool verifyCommit, bool readOnly, long completedWorkToken, CancellationToken cancellationToken)
    {
        using Activity? activity = Telemetry.ActivitySource.HasListeners() ? StartActivity() : null;

        // Inside another unit of work (of any accessor) this unit runs once: the outer unit retries the whole, so a
        // transient failure is not retried twice over (attempts multiplying).
        UnitScope.Frame? outermost = UnitScope.Enter();
        int maxAttempts = outermost is not null ? Options.Retry.MaxAttempts : 1;
        for (int attempt = 1; ; attempt++)
        {
            TSession session = CreateSession(readOnly, retryingUnit: true);
            T result = default!;
            Task<T>? workTask = null;
            CommitTicket ticket = default;
            Exception? failure = null;
            try
            {
                await session.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (typedWork is not null)
                {
                    workTask = typedWork(session, cancellationToken);
                    result = await workTask.ConfigureAwait(false);
                }
                else
                {
                    await work!(session, cancellationToken).ConfigureAwait(false);
                }

                // The work may have committed or rolled back the session itself: that is its decision, not a failure.
                if (session.IsOpen)
                {
                    if (verifyCommit && session.HasTransaction && !session.TransactionEndedByProvider())
                    {
                        ticket = await CommitVerifier.ReadTicketAsync(session, cancellationToken).ConfigureAwait(false);
                    }

                    await session.CommitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (failure is null)
            {
                // Committed: whatever happens from here on, the unit is never run again.
                if (outermost is null)
                {
                    UnitScope.NestedUnitCommitted();
                }

                await DisposeAfterCommitAsync(session).ConfigureAwait(false);
                CompletedWork.Offer(completedWorkToken, workTask); // see ToResultTask
                return result;
            }

            // Cold path, kept out of this method's state machine.
            // A nested unit that already committed makes this unit impossible to run again safely.
            bool nestedCommitted = outermost is { NestedCommitted: true };
            if (await HandleFailureAsync(session, failure, attempt, nestedCommitted ? attempt : maxAttempts, nestedCommitted, ticket, activity, cancellationToken).ConfigureAwait(false))
            {
                CompletedWork.Offer(completedWorkToken, workTask);
                return result; // a broken COMMIT that verification proved applied
            }
        }
    }

    /// <summary>Returns the connection of a committed unit; a failure here is logged, never turned into a re-run.</summary>
    private async ValueTask DisposeAfterCommitAsync(TSession session)
    {
        try
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Log.DisposeFailedAfterCommit(Engine.Logger, Engine.Name, ex.GetType().Name, ex);
        }
    }

    /// <summary>
    /// Rolls the failed unit back, then either throws (the original exception, or its <see cref="DbCoreException"/>
    /// translation, with <see cref="DbCoreException.Attempts"/> set), returns <see langword="true"/> when a broken COMMIT
    /// was verified as applied, or backs off and returns <see langword="false"/> to run the unit again.
    /// </summary>
    private async ValueTask<bool> HandleFailureAsync(TSession session, Exception exception, int attempt, int maxAttempts, bool nestedCommitted, CommitTicket ticket, Activity? activity, CancellationToken cancellationToken)
    {
        // Work that committed (or ended) its transaction itself must never run again, whatever failed afterwards.
        bool endedByWork = session.IsCommitted || session.TransactionEndedByProvider();
        bool rolledBackBySqlite = SqliteTransactions.IsProviderRefusal(exception) && session.TransactionRolledBackBySqlite();
        try
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception dispose)
        {
            Log.RollbackFailed(Engine.Logger, Engine.Name, dispose);
        }

        // A COMMIT the work sent itself through the provider's transaction is a commit, not an ordinary statement.
        // (Not in a read-only unit whose COMMIT applies nothing.)
        ErrorPhase phase = !session.CommitAppliesNothing && CommitFrames.IsProviderCommit(exception) ? ErrorPhase.Commit : ErrorPhase.Execute;
        DbCoreException? failure = exception as DbCoreException
            ?? (rolledBackBySqlite ? ThrowHelper.SqliteTransactionRolledBack(Engine.Name, exception) : ErrorTranslator.Translate(exception, phase, Engine));
        if (failure is null)
        {
            LogFailure(exception, attempt);
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            ExceptionDispatchInfo.Throw(exception);
        }

        if (failure is CommitOutcomeUnknownException { NotReplicated: false } unknown && ticket.IsSet)
        {
            CommitStatus status = await VerifyCommitAsync(ticket, cancellationToken).ConfigureAwait(false);
            if (status == CommitStatus.Committed)
            {
                return true;
            }

            if (status == CommitStatus.NotApplied)
            {
                // Verified: nothing was applied, so this is an ordinary connection failure and safe to run again.
                failure = CommitVerifier.NotApplied(Engine.Name, unknown);
            }
        }

        if (failure.SqlState == ReadOnlySqlTransaction && !session.IsReadOnly && Engine.IsMultiHost && failure.GetType() == typeof(DbCoreException))
        {
            // A write in a read-write unit refused because the server is read-only: the unit reached a standby or a
            // primary being demoted (a failover in progress). Ask the hosts again and retry: the promoted primary is found.
            Engine.ForgetHostStates();
            failure = ErrorTranslator.ServerIsReadOnly(Engine.Name, failure);
        }

        if (failure is ConnectionFailureException && session.FailedToConnect)
        {
            // A fresh connect failed: evidence that the server (not one backend) went away.
            OnServerUnreachable();
        }

        if (endedByWork || !ShouldRetry(failure, attempt, maxAttempts, cancellationToken))
        {
            failure.Attempts = attempt;
            if (endedByWork || nestedCommitted)
            {
                // Transient in itself, but this unit must not run again (it would commit the nested or the work's own
                // commit a second time): say so to an outer retry (Polly) that handles transient errors.
                failure.IsTransient = false;
            }

            LogFailure(failure, attempt);
            activity?.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
            activity?.SetTag("error.type", failure.GetType().Name);
            if (ReferenceEquals(failure, exception))
            {
                ExceptionDispatchInfo.Throw(exception);
            }

            throw failure;
        }

        await BackOffAsync(failure, attempt, activity, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Logs a unit that ended in failure once, at the level its cause deserves (see docs/observability.md).</summary>
    private void LogFailure(Exception exception, int attempt)
    {
        if (exception is DbCoreException { IsTransient: true } && attempt > 1)
        {
            Log.RetriesExhausted(Engine.Logger, Engine.Name, attempt, exception.GetType().Name, ((DbCoreException)exception).SqlState);
            return;
        }

        LogLevel level = exception switch
        {
            OperationCanceledException => LogLevel.Debug,                 // the caller gave up (a client disconnect)
            DbCoreException { IsTransient: true } => LogLevel.Warning,
            UniqueViolationException or ForeignKeyViolationException or NotNullViolationException
                or CheckViolationException or ExclusionViolationException => LogLevel.Information, // the data said no
            CommitOutcomeUnknownException => LogLevel.Error,
            DbCoreException => LogLevel.Warning,
            _ => LogLevel.Debug,                                           // the application's own exception, its to log
        };
        if (Engine.Logger.IsEnabled(level))
        {
            Log.RolledBack(Engine.Logger, level, Engine.Name, exception.GetType().Name, attempt, level >= LogLevel.Warning ? exception : null);
        }
    }

    /// <summary>
    /// After a broken COMMIT: reconnects (with backoff, the server may be restarting) and asks for the transaction's status.
    /// "in progress" is asked again: the terminated backend may still be rolling back.
    /// </summary>
    private async Task<CommitStatus> VerifyCommitAsync(CommitTicket ticket, CancellationToken cancellationToken)
    {
        long transactionId = ticket.TransactionId;
        int tries = Math.Max(Options.Retry.MaxAttempts, CommitVerifier.MinimumTries);
        string status = "unreachable";
        for (int attempt = 1; attempt <= tries; attempt++)
        {
            TSession session = CreateSession(Engine);
            try
            {
                await session.OpenAsync(cancellationToken).ConfigureAwait(false);
                status = await CommitVerifier.ReadStatusAsync(session, ticket, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested)
            {
                // The caller gave up while DbCore was asking: the outcome is still unknown, and that is what it must hear
                // (an OperationCanceledException would read as "nothing happened").
                status = "cancelled while verifying (" + ex.GetType().Name + ")";
                break;
            }
            catch (Exception ex)
            {
                // Whatever goes wrong while asking (a transient failure, a failover to a server that does not know the
                // transaction id, a timeout), the answer stays "unknown": the caller must get CommitOutcomeUnknown, never
                // an exception that looks retryable.
                status = ex is DbCoreException { IsTransient: true } ? "unreachable" : "unanswerable";
            }
            finally
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            switch (status)
            {
                case "committed":
                    Log.CommitVerified(Engine.Logger, Engine.Name, transactionId, status);
                    return CommitStatus.Committed;
                case "aborted":
                    Log.CommitVerified(Engine.Logger, Engine.Name, transactionId, status);
                    return CommitStatus.NotApplied;
                case "unreachable":
                case "in progress":
                    if (!await DelayUnlessCancelledAsync(Backoff.Delay(Options.Retry, attempt), cancellationToken).ConfigureAwait(false))
                    {
                        status = "cancelled while verifying";
                        break;
                    }

                    continue;
                default:
                    // Another server or a restart (see CommitVerifier), or the id is too old to be looked up: unknown.
                    break;
            }

            break;
        }

        Log.CommitVerificationFailed(Engine.Logger, Engine.Name, transactionId, status);
        return CommitStatus.Unknown;
    }

    private static async ValueTask<bool> DelayUnlessCancelledAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool ShouldRetry(DbCoreException failure, int attempt, int maxAttempts, CancellationToken cancellationToken)
        => failure.IsTransient && attempt < maxAttempts && !cancellationToken.IsCancellationRequested;

    private async ValueTask BackOffAsync(DbCoreException failure, int attempt, Activity? activity, CancellationToken cancellationToken)
    {
        TimeSpan delay = Backoff.Delay(Options.Retry, attempt);
        Log.Retrying(Engine.Logger, Engine.Name, failure.GetType().Name, failure.SqlState, attempt, Options.Retry.MaxAttempts, (long)delay.TotalMilliseconds);
        if (Telemetry.Retries.Enabled)
        {
            Telemetry.Retries.Add(1, Engine.Tags);
        }

        activity?.AddEvent(new ActivityEvent("dbcore.retry", tags: new ActivityTagsCollection
        {
            ["dbcore.attempt"] = attempt,
            ["error.type"] = failure.GetType().Name,
            ["db.response.status_code"] = failure.SqlState,
        }));
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A fresh connect failed: evidence that the server went away (see <see cref="DatabaseEngine.OnServerWentAway"/>).</summary>
    private void OnServerUnreachable() => Engine.OnServerWentAway(DatabaseEngine.ConnectFailedEvidence);

    private Activity? StartActivity()
    {
        Activity? activity = Telemetry.ActivitySource.StartActivity(Telemetry.ExecuteActivityName, ActivityKind.Internal);
        if (activity is not null)
        {
            foreach (var tag in Engine.Tags)
            {
                activity.SetTag(tag.Key, tag.Value);
            }
        }

        return activity;
    }
}
