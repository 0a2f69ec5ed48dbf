using System;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Diagnostics;
using DbCore.Errors;
using DbCore.Infrastructure;
using DbCore.Internal;
using Npgsql;

namespace DbCore;

/// <summary>
/// One unit of work: a pooled connection with one transaction. Opened on <see cref="OpenAsync"/> or lazily on first use;
/// <see cref="DisposeAsync"/> and <see cref="Dispose"/> roll back unless committed and always return the connection.
/// Not thread-safe, like the connection it wraps.
/// </summary>
public abstract class DbSession : IAsyncDisposable, IDisposable
{
    private readonly DatabaseEngine _engine;
    private DbConnection? _connection;
    private DbTransaction? _transaction;
    private long _acquiredAt;
    private SessionState _state;

    /// <summary>Creates a session that is not open yet. Called by generated code.</summary>
    /// <param name="engine">The accessor's engine.</param>
    protected DbSession(DatabaseEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        _engine = engine;
    }

    private enum SessionState : byte
    {
        NotOpened,
        Open,
        Committed,
        RolledBack,
        Disposed,
    }

    /// <summary>Whether the session holds a connection and an open transaction.</summary>
    public bool IsOpen => _state == SessionState.Open;

    /// <summary>
    /// Set by the accessor before opening: the session connects through the read-only data source and its transaction is
    /// READ ONLY (see <see cref="ReadOnlyTransaction"/>).
    /// </summary>
    internal bool IsReadOnly { get; set; }

    /// <summary>Whether <see cref="CommitAsync"/> succeeded.</summary>
    public bool IsCommitted => _state == SessionState.Committed;

    /// <summary>The open connection. Opens the session synchronously when it is not open yet.</summary>
    public DbConnection Connection
    {
        get
        {
            EnsureOpen();
            return _connection!;
        }
    }

    /// <summary>The session's transaction. Opens the session synchronously when it is not open yet.</summary>
    public DbTransaction Transaction
    {
        get
        {
            EnsureOpen();
            return _transaction!;
        }
    }

    /// <summary>Creates a command bound to the session's connection and transaction.</summary>
    /// <param name="sql">The command text.</param>
    public DbCommand CreateCommand(string sql)
    {
        EnsureOpen();
        DbCommand command = _connection!.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>Acquires a connection and begins the transaction. Does nothing when already open.</summary>
    /// <param name="cancellationToken">Cancels waiting for a connection.</param>
    public ValueTask OpenAsync(CancellationToken cancellationToken = default)
        => _state == SessionState.Open ? default : OpenCoreAsync(cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask OpenCoreAsync(CancellationToken cancellationToken)
    {
        ThrowIfNotOpenable();
        DbConnection connection;
        long start = _engine.BeginAcquire();
        try
        {
            _engine.EnsureReady();
            NpgsqlDataSource? npgsql = _engine.NpgsqlSource(IsReadOnly);
            connection = npgsql is not null
                ? await npgsql.OpenConnectionAsync(cancellationToken).ConfigureAwait(false)
                : await _engine.Source(IsReadOnly).OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (_engine.OnAcquireFailed(ex) && ErrorTranslator.Translate(ex, ErrorPhase.Acquire, _engine) is { } translated)
        {
            throw translated;
        }
        finally
        {
            _engine.EndWait();
        }

        _engine.OnAcquired(start);

        try
        {
            _transaction = await SqliteTransactions.BeginAsync(connection, IsReadOnly, cancellationToken).ConfigureAwait(false);
            if (IsReadOnly)
            {
                await ReadOnlyTransaction.BeginAsync(connection, _transaction, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            _engine.OnReleased(start);
            if (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                throw translated;
            }

            throw;
        }

        _connection = connection;
        _acquiredAt = start;
        _state = SessionState.Open;
    }

    private void EnsureOpen()
    {
        if (_state == SessionState.Open)
        {
            return;
        }

        ThrowIfNotOpenable();
        DbConnection connection;
        long start = _engine.BeginAcquire();
        try
        {
            _engine.EnsureReady();
            connection = _engine.Source(IsReadOnly).OpenConnection();
        }
        catch (Exception ex) when (_engine.OnAcquireFailed(ex) && ErrorTranslator.Translate(ex, ErrorPhase.Acquire, _engine) is { } translated)
        {
            throw translated;
        }
        finally
        {
            _engine.EndWait();
        }

        _engine.OnAcquired(start);

        try
        {
            _transaction = SqliteTransactions.Begin(connection, IsReadOnly);
            if (IsReadOnly)
            {
                ReadOnlyTransaction.Begin(connection, _transaction);
            }
        }
        catch (Exception ex)
        {
            connection.Dispose();
            _engine.OnReleased(start);
            if (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                throw translated;
            }

            throw;
        }

        _connection = connection;
        _acquiredAt = start;
        _state = SessionState.Open;
    }

    private void ThrowIfNotOpenable()
    {
        switch (_state)
        {
            case SessionState.Committed:
            case SessionState.RolledBack:
                ThrowHelper.ThrowSessionCompleted(_state == SessionState.Committed);
                break;
            case SessionState.Disposed:
                ThrowHelper.ThrowSessionDisposed();
                break;
        }
    }

    /// <summary>
    /// Commits the transaction. If the connection breaks while COMMIT is in flight, throws
    /// <see cref="CommitOutcomeUnknownException"/>: the transaction may or may not have been applied.
    /// </summary>
    /// <param name="cancellationToken">Observed until COMMIT is sent; a COMMIT in flight is not cancelled, so that its outcome stays known.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (_state != SessionState.Open)
        {
            if (_state == SessionState.NotOpened)
            {
                // Nothing was done: committing an unopened session is a no-op success.
                _state = SessionState.Committed;
                return;
            }

            ThrowIfNotOpenable();
        }

        // Cancellation is honoured up to here. Once COMMIT is sent it runs to completion (bounded by the command timeout):
        // cancelling it half-way would only turn a known outcome into an unknown one.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await _transaction!.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Commit, _engine.Name) is { } translated)
        {
            _state = SessionState.RolledBack;
            throw translated;
        }

        _state = SessionState.Committed;
    }

    /// <summary>
    /// Rolls the transaction back. Does nothing when the session was never opened or is already rolled back (including by
    /// a failed commit), so a <c>catch { await session.RollbackAsync(); throw; }</c> never hides the original error.
    /// </summary>
    /// <param name="cancellationToken">Cancels the rollback.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask RollbackAsync(CancellationToken cancellationToken = default)
    {
        if (_state != SessionState.Open)
        {
            if (_state is SessionState.NotOpened or SessionState.RolledBack)
            {
                _state = SessionState.RolledBack;
                return;
            }

            ThrowIfNotOpenable();
        }

        _state = SessionState.RolledBack;
        CountRollback();
        try
        {
            await _transaction!.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>Rolls back when not committed and returns the connection to the pool.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask DisposeAsync()
    {
        if (_state == SessionState.Disposed)
        {
            return;
        }

        SessionState state = _state;
        _state = SessionState.Disposed;
        if (_connection is null)
        {
            return;
        }

        if (state == SessionState.Open)
        {
            CountRollback();
            Log.DisposedWithoutCommit(_engine.Logger, _engine.Name);
            try
            {
                await _transaction!.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Log.RollbackFailed(_engine.Logger, _engine.Name, ex);
            }
        }

        try
        {
            await _transaction!.DisposeAsync().ConfigureAwait(false);
            if (IsReadOnly)
            {
                ReadOnlyTransaction.End(_connection);
            }

            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _transaction = null;
            _connection = null;
            _engine.OnReleased(_acquiredAt);
        }
    }

    /// <summary>
    /// Rolls back synchronously (the provider's own synchronous rollback, no sync-over-async) when not committed and
    /// returns the connection. Used when a DI scope is disposed synchronously.
    /// </summary>
    public void Dispose()
    {
        if (_state == SessionState.Disposed)
        {
            return;
        }

        SessionState state = _state;
        _state = SessionState.Disposed;
        if (_connection is null)
        {
            return;
        }

        if (state == SessionState.Open)
        {
            CountRollback();
            Log.DisposedWithoutCommit(_engine.Logger, _engine.Name);
            try
            {
                _transaction!.Rollback();
            }
            catch (Exception ex)
            {
                Log.RollbackFailed(_engine.Logger, _engine.Name, ex);
            }
        }

        try
        {
            _transaction!.Dispose();
            if (IsReadOnly)
            {
                ReadOnlyTransaction.End(_connection);
            }

            _connection.Dispose();
        }
        finally
        {
            _transaction = null;
            _connection = null;
            _engine.OnReleased(_acquiredAt);
        }
    }

    private void CountRollback()
    {
        if (Telemetry.Rollbacks.Enabled)
        {
            Telemetry.Rollbacks.Add(1, _engine.Tags);
        }
    }
}
