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
    private protected DatabaseAccessor(DatabaseDefinition definition, IDatabaseSettings settings, string? environment, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(settings);
        Options = DatabaseOptions.Create(definition, settings, environment);
        Engine = new DatabaseEngine(Options, loggerFactory);
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
    protected DatabaseAccessor(DatabaseDefinition definition, IDatabaseSettings settings, string? environment, ILoggerFactory? loggerFactory)
        : base(definition, settings, environment, loggerFactory)
    {
    }

    private static readonly TimeSpan PoolClearInterval = TimeSpan.FromSeconds(1);

    private long _lastPoolClear;

    /// <summary>Creates the generated session type over <paramref name="engine"/>.</summary>
    protected abstract TSession CreateSession(DatabaseEngine engine);

    /// <summary>A session that opens lazily on first use (what the DI container injects as a scoped service).</summary>
    public TSession CreateSession() => CreateSession(Engine);

    private TSession CreateSession(bool readOnly)
    {
        TSession session = CreateSession(Engine);
        session.IsReadOnly = readOnly;
        return session;
    }

    /// <summary>
    /// Opens a session: a pooled connection with a transaction begun. Retries connection failures per the retry policy.
    /// Dispose it; it rolls back unless committed.
    /// </summary>
    public ValueTask<TSession> OpenSessionAsync(CancellationToken cancellationToken = default)
        => OpenSessionCoreAsync(readOnly: false, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TSession> OpenSessionCoreAsync(bool readOnly, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            TSession session = CreateSession(readOnly);
            try
            {
                await session.OpenAsync(cancellationToken).ConfigureAwait(false);
                return session;
            }
            catch (DbCoreException ex) when (ShouldRetry(ex, attempt, cancellationToken))
            {
                await BackOffAsync(ex, attempt, null, cancellationToken).ConfigureAwait(false);
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
        return ExecuteCoreAsync(work, null, verifyCommit: false, readOnly: false, cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as one unit of work: open, begin, run, commit; rolls back on any exception; retries
    /// transient failures per the retry policy.
    /// </summary>
    public Task ExecuteAsync(Func<TSession, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ExecuteCoreAsync<object?>(null, work, verifyCommit: false, readOnly: false, cancellationToken);
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
        return ExecuteCoreAsync(work, null, verifyCommit: Provider == DatabaseProvider.PostgreSql, readOnly: false, cancellationToken);
    }

    /// <summary>
    /// Like <see cref="ExecuteAsync(Func{TSession, CancellationToken, Task}, CancellationToken)"/>, but resolves a broken
    /// COMMIT by asking PostgreSQL after reconnecting whether it was applied; see <see cref="ExecuteVerifiedAsync{T}"/>.
    /// </summary>
    public Task ExecuteVerifiedAsync(Func<TSession, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ExecuteCoreAsync<object?>(null, work, verifyCommit: Provider == DatabaseProvider.PostgreSql, readOnly: false, cancellationToken);
    }

    private async Task<T> ExecuteCoreAsync<T>(Func<TSession, CancellationToken, Task<T>>? typedWork, Func<TSession, CancellationToken, Task>? work, bool verifyCommit, bool readOnly, CancellationToken cancellationToken)
    {
        using Activity? activity = Telemetry.ActivitySource.HasListeners() ? StartActivity() : null;
        for (int attempt = 1; ; attempt++)
        {
            TSession session = CreateSession(readOnly);
            T result = default!;
            long transactionId = 0;
            Exception? failure;
            try
            {
                await session.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (typedWork is not null)
                {
                    result = await typedWork(session, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await work!(session, cancellationToken).ConfigureAwait(false);
                }

                // The work may have committed or rolled back the session itself: that is its decision, not a failure.
                if (session.IsOpen)
                {
                    if (verifyCommit)
                    {
                        transactionId = await CommitVerifier.ReadTransactionIdAsync(session, cancellationToken).ConfigureAwait(false);
                    }

                    await session.CommitAsync(cancellationToken).ConfigureAwait(false);
                }

                await session.DisposeAsync().ConfigureAwait(false);
                return result;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            // Cold path, kept out of this method's state machine.
            if (await HandleFailureAsync(session, failure, attempt, transactionId, activity, cancellationToken).ConfigureAwait(false))
            {
                return result; // a broken COMMIT that verification proved applied
            }
        }
    }

    /// <summary>
    /// Rolls the failed unit back, then either throws (the original exception, or its <see cref="DbCoreException"/>
    /// translation), returns <see langword="true"/> when a broken COMMIT was verified as applied, or backs off and returns
    /// <see langword="false"/> to run the unit again.
    /// </summary>
    private async ValueTask<bool> HandleFailureAsync(TSession session, Exception exception, int attempt, long transactionId, Activity? activity, CancellationToken cancellationToken)
    {
        bool committedByWork = session.IsCommitted;
        await RollBackAfterFailureAsync(session, exception).ConfigureAwait(false);
        DbCoreException? failure = exception as DbCoreException ?? ErrorTranslator.Translate(exception, ErrorPhase.Execute, Engine);
        if (failure is null)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            ExceptionDispatchInfo.Throw(exception);
        }

        if (failure is CommitOutcomeUnknownException unknown && transactionId != 0)
        {
            CommitStatus status = await VerifyCommitAsync(transactionId, cancellationToken).ConfigureAwait(false);
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

        // Work that already committed its session must never run again, whatever failed afterwards.
        if (committedByWork || !ShouldRetry(failure, attempt, cancellationToken))
        {
            if (failure.IsTransient && attempt > 1)
            {
                Log.RetriesExhausted(Engine.Logger, Engine.Name, attempt, failure.GetType().Name, failure.SqlState);
            }

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

    /// <summary>
    /// After a broken COMMIT: reconnects (with backoff, the server may be restarting) and asks for the transaction's status.
    /// "in progress" is asked again: the terminated backend may still be rolling back.
    /// </summary>
    private async Task<CommitStatus> VerifyCommitAsync(long transactionId, CancellationToken cancellationToken)
    {
        int tries = Math.Max(Options.Retry.MaxAttempts, CommitVerifier.MinimumTries);
        string status = "unreachable";
        for (int attempt = 1; attempt <= tries; attempt++)
        {
            TSession session = CreateSession(Engine);
            try
            {
                await session.OpenAsync(cancellationToken).ConfigureAwait(false);
                status = await CommitVerifier.ReadStatusAsync(session, transactionId, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
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
                    ClearPoolAfterConnectionFailure();
                    await Task.Delay(Backoff.Delay(Options.Retry, attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                default:
                    // null: the transaction id is too old to be looked up (or a wraparound); the outcome stays unknown.
                    break;
            }

            break;
        }

        Log.CommitVerificationFailed(Engine.Logger, Engine.Name, transactionId, status);
        return CommitStatus.Unknown;
    }

    private async ValueTask RollBackAfterFailureAsync(TSession session, Exception exception)
    {
        if (session.IsOpen)
        {
            Log.RolledBack(Engine.Logger, Engine.Name, exception.GetType().Name, exception);
        }

        await session.DisposeAsync().ConfigureAwait(false);
    }

    private bool ShouldRetry(DbCoreException failure, int attempt, CancellationToken cancellationToken)
        => failure.IsTransient && attempt < Options.Retry.MaxAttempts && !cancellationToken.IsCancellationRequested;

    private async ValueTask BackOffAsync(DbCoreException failure, int attempt, Activity? activity, CancellationToken cancellationToken)
    {
        if (failure is ConnectionFailureException)
        {
            ClearPoolAfterConnectionFailure();
        }

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

    /// <summary>
    /// After a server restart the other idle connections are dead too, so the pool is cleared; at most once per second, so
    /// a burst of single killed backends does not turn into a storm of new connections (each with a full authentication).
    /// </summary>
    private void ClearPoolAfterConnectionFailure()
    {
        if (Engine.DataSource is not NpgsqlDataSource npgsql)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long last = Interlocked.Read(ref _lastPoolClear);
        if (last != 0 && Stopwatch.GetElapsedTime(last, now) < PoolClearInterval)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _lastPoolClear, now, last) == last)
        {
            npgsql.Clear();
            Engine.ForgetHostStates();
        }
    }

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
