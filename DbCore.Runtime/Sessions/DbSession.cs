using System;
using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Diagnostics;
using DbCore.Errors;
using DbCore.Infrastructure;
using DbCore.Internal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore;

/// <summary>
/// One unit of work: a pooled connection with one transaction. Opened on <see cref="OpenAsync"/> or lazily on first use;
/// <see cref="DisposeAsync"/> and <see cref="Dispose"/> roll back unless committed and always return the connection.
/// On PostgreSQL the transaction begins with the first statement that may write (see docs/sessions.md, "The read path"):
/// reads before it cost what raw Npgsql costs. Not thread-safe, like the connection it wraps.
/// </summary>
public abstract partial class DbSession : IAsyncDisposable, IDisposable
{
    private readonly DatabaseEngine _engine;

    private DbConnection? _connection;

    /// <summary>The pool slot the connection came from (PostgreSQL, see <see cref="ConnectionSlots"/>); returned after it.</summary>
    private ConnectionSlots.Slot? _slot;
    private DbTransaction? _transaction;
    private long _acquiredAt;
    private SessionState _state;
    private int _disposed;

    /// <summary>
    /// 1 from a query method's RentCommand on PostgreSQL to its ReturnCommand (one call at a time: a session is not
    /// thread-safe; a failed call leaves it set until the next call's).
    /// </summary>
    private int _queryCalls;
    private bool _activeCounted;
    private string? _firstError;

    /// <summary>The rows the last statement of <see cref="FinishAsync"/> affected (ExecuteAndCommitAsync's result).</summary>
    private int _lastAffected;

    /// <summary>
    /// The guard's SAVEPOINT failed (the transaction was aborted), which Npgsql answers by breaking the connection on
    /// purpose: that break is the guard working, not evidence of a server going away, so the slot is returned as healthy.
    /// </summary>
    private bool _guardRefused;

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

        /// <summary>An open is under way (it awaits a connection): a second call meanwhile is a usage error, not a second open.</summary>
        Opening,
        Open,
        Committed,
        RolledBack,
        Disposed,
    }

    /// <summary>
    /// Whether the session holds a connection and has not been committed or rolled back yet. On PostgreSQL its transaction
    /// may not have begun yet (nothing but reads so far).
    /// </summary>
    public bool IsOpen => _state == SessionState.Open;

    /// <summary>
    /// Whether the session's transaction has begun: at its first statement that may write (reads before it run without one),
    /// or at open in a retrying unit of work. A session that only read has nothing to commit.
    /// </summary>
    public bool HasTransaction => _transaction is not null;

    /// <summary>
    /// Set by the accessor before opening: the session connects through the read-only data source and its transaction is
    /// READ ONLY (see <see cref="ReadOnlyTransaction"/>).
    /// </summary>
    internal bool IsReadOnly { get; set; }

    /// <summary>
    /// Whether this read-only session's COMMIT can have had no effect at all: its transaction is READ ONLY, which refuses every
    /// write, and the work sent nothing that a READ ONLY transaction still lets through with an effect at COMMIT
    /// (<c>NOTIFY</c> / <c>pg_notify</c>, delivered when it commits; <c>dblink</c>, another server's writes), and nothing DbCore
    /// did not see (<see cref="Connection"/> or <see cref="Transaction"/> used directly: Dapper, EF Core, raw commands).
    /// Then a COMMIT that broke on its way is an ordinary connection failure, not an unknown outcome.
    /// </summary>
    internal bool CommitAppliesNothing => IsReadOnly && !_effectsUnseen;

    /// <summary>Set in a read-only session by a statement or a use that <see cref="CommitAppliesNothing"/> cannot vouch for.</summary>
    private bool _effectsUnseen;

    /// <summary>
    /// Set by the accessor for its retrying write units (<c>ExecuteAsync</c>): on PostgreSQL the transaction begins at open
    /// (Npgsql sends the BEGIN with the first statement), not at the first write, so a statement DbCore takes for a read
    /// (a SELECT calling a function that writes) is inside the transaction and never committed by a unit that is retried.
    /// </summary>
    internal bool BeginsAtOpen { get; set; }

    /// <summary>
    /// A read-only session whose transaction a statement makes read-only (PostgreSQL's <c>SET TRANSACTION READ ONLY</c>,
    /// SQLite's <c>PRAGMA query_only</c> on an in-memory database), not a <c>Mode=ReadOnly</c> pool of a SQLite file.
    /// </summary>
    private bool ReadOnlyByStatement => IsReadOnly && !_engine.SqliteReadOnlyPool;

    /// <summary>SQLite: the session begins its transaction when it opens (a retrying unit, or a <see cref="ReadOnlyByStatement"/> session).</summary>
    private bool SqliteBeginsAtOpen => ReadOnlyByStatement || BeginsAtOpen;

    /// <summary>Whether <see cref="CommitAsync"/> succeeded.</summary>
    public bool IsCommitted => _state == SessionState.Committed;

    /// <summary>Whether the last open failed because no connection could be made (evidence the server went away).</summary>
    internal bool FailedToConnect { get; private set; }

    /// <summary>
    /// Failure path only: whether the provider's transaction was committed or rolled back by the work itself (through
    /// <see cref="Transaction"/>, SQL, or a library), so the unit must not run again. A broken connection is not "ended".
    /// </summary>
    internal bool TransactionEndedByProvider()
        => _state == SessionState.Open && _transaction is not null && !IsReadOnly && (ProviderTransactionCompleted() || MayHaveCommittedByStatement());

    /// <summary>
    /// SQLite: whether a statement may have committed the transaction behind the provider's object (a COMMIT the work sent):
    /// the commit counter says so on a cached connection; on another, a transaction no longer active may have been.
    /// </summary>
    private bool MayHaveCommittedByStatement()
        => _connection is SqliteConnection { State: ConnectionState.Open } sqlite
            && (sqlite is ReusableSqliteConnection reusable ? reusable.CommittedSinceBegin : SqliteTransactions.InAutocommit(sqlite));

    /// <summary>
    /// Failure path only: whether SQLite rolled the session's transaction back behind the provider's object (an error the
    /// work caught, SQLITE_FULL say, or a ROLLBACK statement); Microsoft.Data.Sqlite then refuses every later command with
    /// "This SqliteTransaction has completed".
    /// </summary>
    internal bool TransactionRolledBackBySqlite()
        => _state == SessionState.Open && _transaction is not null && _connection is ReusableSqliteConnection { State: ConnectionState.Open, CommittedSinceBegin: false } sqlite
            && !ProviderTransactionCompleted() && SqliteTransactions.InAutocommit(sqlite);

    /// <summary>Whether the provider's transaction object says it was committed or rolled back (not: its connection broke).</summary>
    private bool ProviderTransactionCompleted()
    {
        try
        {
            // Npgsql's IsolationLevel throws InvalidOperationException once the transaction completed; Microsoft.Data.Sqlite's
            // Connection is null once it completed (its IsolationLevel never throws).
            _ = _transaction!.IsolationLevel;
            return _transaction.Connection is null;
        }
        catch (InvalidOperationException ex) when (ex is not ObjectDisposedException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            // The work disposed the transaction (which rolled it back) on a connection still open: ended by the work. Else
            // Npgsql disposed the transaction of a broken connection: not ended. Had the work committed it before, every later
            // command DbCore created failed with "Transaction is already completed"; what another library sent on the
            // connection after such a commit cannot be seen (docs/resilience.md says not to commit the session yourself).
            return _connection!.State == ConnectionState.Open;
        }
    }

    /// <summary>
    /// The open connection, inside the session's transaction: opens the session synchronously when it is not open yet and
    /// begins the transaction, so statements another library sends on it (Dapper, EF Core) are part of the unit of work.
    /// </summary>
    public DbConnection Connection
    {
        get
        {
            _effectsUnseen = true;
            EnsureTransaction();
            return _connection!;
        }
    }

    /// <summary>The session's transaction. Opens the session synchronously when it is not open yet, and begins the transaction.</summary>
    public DbTransaction Transaction
    {
        get
        {
            _effectsUnseen = true;
            return EnsureTransaction();
        }
    }

    /// <summary>Begins the transaction (if not yet) for DbCore's own use, without handing it to the work.</summary>
    internal void EnsureTransactionBegun() => EnsureTransaction();

    /// <summary>
    /// Creates a command bound to the session's connection and transaction. A plain read (one SELECT, WITH, VALUES, TABLE or
    /// SHOW statement without a locking clause or a writing keyword) created before the transaction began runs without one,
    /// as raw Npgsql or Microsoft.Data.Sqlite would run it; any other statement begins the transaction first (on SQLite
    /// <c>BEGIN IMMEDIATE</c>, whose wait for the write lock blocks this thread: typed query methods and units of work wait
    /// asynchronously).
    /// </summary>
    /// <param name="sql">The command text.</param>
    public DbCommand CreateCommand(string sql)
    {
        OpenFor(sql);
        DbCommand command = _connection!.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>Whether <paramref name="sql"/> may do what a READ ONLY transaction allows with an effect at COMMIT: NOTIFY, dblink.</summary>
    private static bool HasEffectAtCommit(string sql)
        => sql.Contains("notify", StringComparison.OrdinalIgnoreCase) || sql.Contains("dblink", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens the session, and begins the transaction before a statement that may write.</summary>
    private void OpenFor(string sql)
    {
        if (IsReadOnly && !_effectsUnseen && HasEffectAtCommit(sql))
        {
            _effectsUnseen = true;
        }

        EnsureOpen();
        if (_connection is NpgsqlConnection { State: not ConnectionState.Open })
        {
            // The connection broke under an earlier statement whose error the work caught (a parameter Npgsql could not
            // write breaks it mid-message): the server rolled back whatever was open. The next statement says so, as COMMIT
            // would, instead of Npgsql's "Transaction is already completed" or "Connection is not open".
            throw ThrowHelper.BrokenEarlier(_engine.Name, BreakReason());
        }

        if (_transaction is null && !SqlClassifier.IsRead(sql))
        {
            BeginDeferredTransaction();
        }
    }

    private DbTransaction EnsureTransaction()
    {
        EnsureOpen();
        if (_transaction is null)
        {
            BeginDeferredTransaction();
        }

        return _transaction!;
    }

    /// <summary>
    /// PostgreSQL: begins the transaction at the first statement that may write. Npgsql sends the BEGIN together with the
    /// next command (no round trip of its own); a read-only session also sends <c>SET TRANSACTION READ ONLY</c> (one round
    /// trip, only on this path: a write attempt, or <see cref="Connection"/> / <see cref="Transaction"/> used directly).
    /// </summary>
    private void BeginDeferredTransaction()
    {
        try
        {
            // A read-only session on SQLite begins a deferred (read) transaction: one snapshot from here on, no write lock.
            _transaction = SqliteTransactions.Begin(_connection!, IsReadOnly);
            if (ReadOnlyByStatement)
            {
                ReadOnlyTransaction.Begin(_connection!, _transaction);
            }
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Used by generated query methods: opens the session and, on SQLite, begins the write transaction before a statement
    /// that may write, waiting for the write lock without blocking a thread (<see cref="CreateCommand"/> would begin it
    /// synchronously). On PostgreSQL the same as <see cref="OpenAsync"/>.
    /// </summary>
    /// <param name="sql">The statement about to run.</param>
    /// <param name="cancellationToken">Cancels waiting for a connection or the write lock.</param>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    protected ValueTask OpenForStatementAsync(string sql, CancellationToken cancellationToken)
    {
        if (_state != SessionState.Open || _transaction is not null || _connection is NpgsqlConnection)
        {
            return _state == SessionState.Open ? default : OpenForStatementCoreAsync(sql, cancellationToken);
        }

        if (!SqlClassifier.IsRead(sql))
        {
            return OpenForStatementCoreAsync(sql, cancellationToken);
        }

        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask OpenForStatementCoreAsync(string sql, CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken).ConfigureAwait(false);
        if (_transaction is null && _connection is SqliteConnection && !SqlClassifier.IsRead(sql))
        {
            try
            {
                _transaction = await SqliteTransactions.BeginAsync(_connection, IsReadOnly, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                throw translated;
            }
        }
    }

    /// <summary>
    /// Acquires a connection. The transaction begins with the first statement that may write (PostgreSQL and SQLite), except
    /// in retrying units and read-only sessions of an in-memory SQLite database, which begin it now. Does nothing when
    /// already open.
    /// </summary>
    /// <param name="cancellationToken">Cancels waiting for a connection.</param>
    public ValueTask OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_state == SessionState.Open)
        {
            return default;
        }

        // SQLite with nothing to begin at open: Microsoft.Data.Sqlite opens synchronously under its async API, so the open
        // runs here without an async state machine (the same steps as OpenCoreAsync, with its errors in the returned task).
        return _engine.SqliteConnectionString is not null && !SqliteBeginsAtOpen
            ? OpenSynchronously(cancellationToken)
            : OpenCoreAsync(cancellationToken);
    }

    private ValueTask OpenSynchronously(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            EnsureOpen();
            return default;
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask OpenCoreAsync(CancellationToken cancellationToken)
    {
        ThrowIfNotOpenable();
        _state = SessionState.Opening;
        DbConnection? connection = null;
        long start = _engine.BeginAcquire();
        try
        {
            _engine.EnsureReady();
            if (_engine.Slots is { } slots)
            {
                _slot = slots.TryRent() ?? slots.Taken(await slots.WaitAsync(cancellationToken).ConfigureAwait(false));
                connection = await _slot.OpenAsync(IsReadOnly, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                NpgsqlDataSource? npgsql = _engine.NpgsqlSource(IsReadOnly);
                if (npgsql is not null)
                {
                    connection = await npgsql.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // SQLite: Microsoft.Data.Sqlite's OpenAsync checks the token and runs Open.
                    cancellationToken.ThrowIfCancellationRequested();
                    connection = _engine.OpenConnection(IsReadOnly);
                }
            }
        }
        catch (Exception ex) when (_engine.OnAcquireFailed(ex) && ErrorTranslator.Translate(ex, ErrorPhase.Acquire, _engine) is { } translated)
        {
            FailedToConnect = translated is ConnectionFailureException;
            throw translated;
        }
        finally
        {
            _engine.EndWait();
            if (connection is null)
            {
                // The open failed (or was cancelled) after a slot was taken: it goes back, nothing was opened on it.
                SetNotOpenedUnlessDisposed();
                ReturnSlot(broken: false);
            }
        }

        _activeCounted = _engine.OnAcquired(start);

        try
        {
            // PostgreSQL: the transaction begins with the first statement that may write (the read path), except in a
            // retrying write unit, where it begins now (no round trip: Npgsql sends the BEGIN with the first statement).
            if (connection is not NpgsqlConnection)
            {
                // SQLite: retrying units begin now (the write lock before the work runs), and read-only sessions of an
                // in-memory database (PRAGMA query_only guards them); other sessions, read-only ones on a file's
                // Mode=ReadOnly pool too, begin with their first statement that may write, as on PostgreSQL (reads run in
                // autocommit, taking no lock).
                _engine.OnSqliteOpened(connection);
                if (SqliteBeginsAtOpen)
                {
                    _transaction = await SqliteTransactions.BeginAsync(connection, IsReadOnly, cancellationToken).ConfigureAwait(false);
                    if (ReadOnlyByStatement)
                    {
                        await ReadOnlyTransaction.BeginAsync(connection, _transaction, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            else if (BeginsAtOpen)
            {
                _transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            SetNotOpenedUnlessDisposed();
            try
            {
                await ReleaseConnectionAsync(connection).ConfigureAwait(false);
            }
            finally
            {
                _engine.OnReleased(start, _activeCounted);
            }

            if (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                throw translated;
            }

            throw;
        }

        _acquiredAt = start;
        if (!Publish(connection))
        {
            await TakeBackAfterDisposeAsync(connection, start).ConfigureAwait(false);
        }
    }

    private void EnsureOpen()
    {
        if (_state == SessionState.Open)
        {
            return;
        }

        ThrowIfNotOpenable();
        _state = SessionState.Opening;
        DbConnection? connection = null;
        long start = _engine.BeginAcquire();
        try
        {
            _engine.EnsureReady();
            if (_engine.Slots is { } slots)
            {
                _slot = slots.Rent();
                connection = _slot.Open(IsReadOnly);
            }
            else
            {
                connection = _engine.OpenConnection(IsReadOnly);
            }
        }
        catch (Exception ex) when (_engine.OnAcquireFailed(ex) && ErrorTranslator.Translate(ex, ErrorPhase.Acquire, _engine) is { } translated)
        {
            FailedToConnect = translated is ConnectionFailureException;
            throw translated;
        }
        finally
        {
            _engine.EndWait();
            if (connection is null)
            {
                // The open failed (or was cancelled) after a slot was taken: it goes back, nothing was opened on it.
                SetNotOpenedUnlessDisposed();
                ReturnSlot(broken: false);
            }
        }

        _activeCounted = _engine.OnAcquired(start);

        try
        {
            // PostgreSQL: the transaction begins with the first statement that may write (the read path), except in a
            // retrying write unit (see BeginsAtOpen).
            if (connection is not NpgsqlConnection)
            {
                _engine.OnSqliteOpened(connection);
                if (SqliteBeginsAtOpen)
                {
                    _transaction = SqliteTransactions.Begin(connection, IsReadOnly);
                    if (ReadOnlyByStatement)
                    {
                        ReadOnlyTransaction.Begin(connection, _transaction);
                    }
                }
            }
            else if (BeginsAtOpen)
            {
                _transaction = connection.BeginTransaction();
            }
        }
        catch (Exception ex)
        {
            SetNotOpenedUnlessDisposed();
            try
            {
                ReleaseConnection(connection);
            }
            finally
            {
                _engine.OnReleased(start, _activeCounted);
            }

            if (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                throw translated;
            }

            throw;
        }

        _acquiredAt = start;
        if (!Publish(connection))
        {
            TakeBackAfterDispose(connection, start);
        }
    }

    /// <summary>
    /// After a failed open: NotOpened, or Disposed when a dispose came while the open was under way (it must stay disposed).
    /// Written first and checked after a full fence, so a dispose between the check and the write cannot be overwritten.
    /// </summary>
    private void SetNotOpenedUnlessDisposed()
    {
        _state = SessionState.NotOpened;
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _disposed) != 0)
        {
            _state = SessionState.Disposed;
        }
    }

    /// <summary>
    /// Makes the opened connection the session's, unless the session was disposed while it opened (the request that
    /// owned a call it did not await ended): then false, and whichever of this open and the dispose takes the connection
    /// back releases it. Both exchange the field with full fences, so exactly one of them gets it.
    /// </summary>
    private bool Publish(DbConnection connection)
    {
        _state = SessionState.Open;
        Interlocked.Exchange(ref _connection, connection);
        if (Volatile.Read(ref _disposed) == 0)
        {
            return true;
        }

        _state = SessionState.Disposed;
        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask TakeBackAfterDisposeAsync(DbConnection connection, long start)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _connection, null, connection), connection))
        {
            DbTransaction? transaction = Interlocked.Exchange(ref _transaction, null);
            try
            {
                if (transaction is not null)
                {
                    await transaction.DisposeAsync().ConfigureAwait(false);
                }
            }
            finally
            {
                try
                {
                    await ReleaseConnectionAsync(connection).ConfigureAwait(false);
                }
                finally
                {
                    _engine.OnReleased(start, _activeCounted);
                }
            }
        }

        ThrowHelper.ThrowSessionDisposed();
    }

    private void TakeBackAfterDispose(DbConnection connection, long start)
    {
        if (ReferenceEquals(Interlocked.CompareExchange(ref _connection, null, connection), connection))
        {
            DbTransaction? transaction = Interlocked.Exchange(ref _transaction, null);
            try
            {
                transaction?.Dispose();
            }
            finally
            {
                try
                {
                    ReleaseConnection(connection);
                }
                finally
                {
                    _engine.OnReleased(start, _activeCounted);
                }
            }
        }

        ThrowHelper.ThrowSessionDisposed();
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
            case SessionState.Opening:
                ThrowHelper.ThrowSessionOpening();
                break;
        }
    }

    /// <summary>Rolls back when not committed and returns the connection to the pool.</summary>
    public ValueTask DisposeAsync()
    {
        if (_connection is not SqliteConnection)
        {
            return DisposeCoreAsync();
        }

        // Microsoft.Data.Sqlite's async rollback and dispose run its synchronous ones: the same steps as DisposeCoreAsync,
        // without an async state machine, and its errors in the returned task.
        try
        {
            Dispose();
            return default;
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DisposeCoreAsync()
    {
        // Atomic, so Dispose racing DisposeAsync (a DI scope and an explicit dispose) releases the connection once.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        SessionState state = _state;
        _state = SessionState.Disposed;
        DbConnection? connection = Interlocked.Exchange(ref _connection, null); // an open under way may take it back (Publish)
        if (connection is null)
        {
            return;
        }

        DbTransaction? transaction = Interlocked.Exchange(ref _transaction, null);
        if (IsRunningCommand(connection))
        {
            await WaitForRunningCommandAsync(connection).ConfigureAwait(false);
        }

        try
        {
            if (state == SessionState.Open && transaction is not null)
            {
                CountRollback();
                Log.DisposedWithoutCommit(_engine.Logger, _engine.Name);
                try
                {
                    // A broken connection's transaction ended with it on the server (a killed backend, a failover): no
                    // ROLLBACK to send, and no failure to report for it.
                    if (connection.State == ConnectionState.Open)
                    {
                        await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
                    }
                }
                catch (Exception ex)
                {
                    Log.RollbackFailed(_engine.Logger, _engine.Name, ex);
                }
            }

            try
            {
                if (transaction is not null)
                {
                    await transaction.DisposeAsync().ConfigureAwait(false);
                }

                if (ReadOnlyByStatement)
                {
                    ReadOnlyTransaction.End(connection);
                }
            }
            finally
            {
                // Whatever the transaction's dispose threw, the connection goes back to the pool.
                await ReleaseConnectionAsync(connection).ConfigureAwait(false);
            }
        }
        finally
        {
            _engine.OnReleased(_acquiredAt, _activeCounted);
        }
    }

    /// <summary>
    /// Rolls back synchronously (the provider's own synchronous rollback, no sync-over-async) when not committed and
    /// returns the connection. Used when a DI scope is disposed synchronously.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        SessionState state = _state;
        _state = SessionState.Disposed;
        DbConnection? connection = Interlocked.Exchange(ref _connection, null); // an open under way may take it back (Publish)
        if (connection is null)
        {
            return;
        }

        DbTransaction? transaction = Interlocked.Exchange(ref _transaction, null);
        if (IsRunningCommand(connection))
        {
            WaitForRunningCommand(connection);
        }

        try
        {
            if (state == SessionState.Open && transaction is not null)
            {
                CountRollback();
                Log.DisposedWithoutCommit(_engine.Logger, _engine.Name);
                try
                {
                    // A broken connection's transaction ended with it on the server (a killed backend, a failover): no
                    // ROLLBACK to send, and no failure to report for it.
                    if (connection.State == ConnectionState.Open)
                    {
                        transaction.Rollback();
                    }
                }
                catch (Exception ex)
                {
                    Log.RollbackFailed(_engine.Logger, _engine.Name, ex);
                }
            }

            try
            {
                transaction?.Dispose();
                if (ReadOnlyByStatement)
                {
                    ReadOnlyTransaction.End(connection);
                }
            }
            finally
            {
                ReleaseConnection(connection);
            }
        }
        finally
        {
            _engine.OnReleased(_acquiredAt, _activeCounted);
        }
    }

    /// <summary>
    /// Whether a query method of the session still runs its command on the connection (a call the owner did not await, on
    /// another thread, when the request's scope disposes the session). Npgsql's connection is not thread-safe: disposing it
    /// under the command can hang the dispose and keep the pool slot, so the dispose waits for the command to end first
    /// (new calls are refused: the session is already disposed). A reader of a raw command left open is no running call:
    /// the dispose closes it at once, as before.
    /// </summary>
    private bool IsRunningCommand(DbConnection connection)
        => Volatile.Read(ref _queryCalls) > 0
           && connection is NpgsqlConnection npgsql && (npgsql.FullState & (ConnectionState.Executing | ConnectionState.Fetching)) != 0;

    /// <summary>How long a dispose waits for a running command: its command timeout, and a margin for the cancellation.</summary>
    private TimeSpan RunningCommandWait => (_engine.Options.CommandTimeout == TimeSpan.Zero ? TimeSpan.FromSeconds(30) : _engine.Options.CommandTimeout) + TimeSpan.FromSeconds(5);

    private async ValueTask WaitForRunningCommandAsync(DbConnection connection)
    {
        long until = Environment.TickCount64 + (long)RunningCommandWait.TotalMilliseconds;
        while (IsRunningCommand(connection) && Environment.TickCount64 < until)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    private void WaitForRunningCommand(DbConnection connection)
    {
        long until = Environment.TickCount64 + (long)RunningCommandWait.TotalMilliseconds;
        while (IsRunningCommand(connection) && Environment.TickCount64 < until)
        {
            Thread.Sleep(5);
        }
    }

    /// <summary>
    /// Disposes the session's connection and gives its pool slot back: marked broken when the connection broke during the
    /// session, quarantined when the dispose threw (the connection may not be back in its data source).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseConnectionAsync(DbConnection connection)
    {
        if (connection is ReusableSqliteConnection reusable)
        {
            reusable.Owner.Return(reusable);
            return;
        }

        bool broken = BrokeBeyondTheGuard(connection), returned = false;
        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            returned = true;
        }
        finally
        {
            ReturnSlot(broken, quarantine: !returned);
        }
    }

    /// <inheritdoc cref="ReleaseConnectionAsync"/>
    private void ReleaseConnection(DbConnection connection)
    {
        if (connection is ReusableSqliteConnection reusable)
        {
            // Kept open for the next session when clean, closed otherwise (SqliteConnectionCache); SQLite has no slots.
            reusable.Owner.Return(reusable);
            return;
        }

        bool broken = BrokeBeyondTheGuard(connection), returned = false;
        try
        {
            connection.Dispose();
            returned = true;
        }
        finally
        {
            ReturnSlot(broken, quarantine: !returned);
        }
    }

    /// <summary>
    /// Whether the connection broke in a way that says something about the server: not when the guard's SAVEPOINT failed
    /// (<see cref="_guardRefused"/>), which Npgsql answers by closing the connection.
    /// </summary>
    private bool BrokeBeyondTheGuard(DbConnection connection)
        => !_guardRefused && ConnectionSlots.Slot.IsBroken(connection);

    /// <summary>
    /// Gives the pool slot back (once). <paramref name="broken"/>: its connection broke during the session;
    /// <paramref name="quarantine"/>: disposing the connection threw, so it may not be back in its data source.
    /// </summary>
    private void ReturnSlot(bool broken, bool quarantine = false)
    {
        ConnectionSlots.Slot? slot = _slot;
        if (slot is not null)
        {
            _slot = null;
            slot.Return(broken, quarantine);
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
