using System;
using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Diagnostics;
using DbCore.Errors;
using DbCore.Internal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore;

/// <content>Ending the unit of work: commit (guarded on PostgreSQL), rollback, and a last statement that commits with it.</content>
public abstract partial class DbSession
{
    /// <summary>
    /// Commits the transaction. If the connection breaks while COMMIT is in flight, throws
    /// <see cref="CommitOutcomeUnknownException"/>: the transaction may or may not have been applied.
    /// </summary>
    /// <param name="cancellationToken">Observed until COMMIT is sent; a COMMIT in flight is not cancelled, so that its outcome stays known.</param>
    public ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        // Not an async method: the checks run here and only COMMIT itself awaits (FinishAsync), so a commit that waits
        // for the server allocates one state machine, not two, when the builders' pools run dry at high concurrency.
        try
        {
            if (_state != SessionState.Open)
            {
                if (_state == SessionState.NotOpened)
                {
                    // Nothing was done: committing an unopened session is a no-op success.
                    _state = SessionState.Committed;
                    return default;
                }

                ThrowIfNotOpenable();
            }

            if (_transaction is null)
            {
                // Only reads ran (PostgreSQL read path): there is nothing to commit and no statement to send.
                _state = SessionState.Committed;
                return default;
            }

            ThrowIfBrokenBeforeCommit();

            // Cancellation is honoured up to here. Once COMMIT is sent it runs to completion (bounded by the command timeout):
            // cancelling it half-way would only turn a known outcome into an unknown one.
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }

        return FinishAsync(last: null);
    }

    /// <summary>
    /// Runs <paramref name="command"/> as the session's last statement and commits: on PostgreSQL the statement, the
    /// aborted-transaction guard and COMMIT go as one batch, so a request whose last step is a write saves the COMMIT's
    /// own round trip. Returns the rows the statement affected. If the statement fails, nothing is committed and its typed
    /// error is thrown (a <see cref="UniqueViolationException"/>, say); the errors of the commit are those of
    /// <see cref="CommitAsync"/>. On SQLite (no round trips) the same as running the command and then <see cref="CommitAsync"/>.
    /// </summary>
    /// <param name="command">A command this session created (<see cref="CreateCommand"/>), not executed yet; its parameters are used as they are.</param>
    /// <param name="cancellationToken">Observed until the batch is sent; once COMMIT is on the wire it runs to completion.</param>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ExecuteAndCommitAsync(DbCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (_state != SessionState.Open || !ReferenceEquals(command.Connection, _connection))
        {
            ThrowIfNotOpenable();
            throw new ArgumentException($"{_engine.Name}: the command was not created by this session; create it with session.CreateCommand(sql).", nameof(command));
        }

        int statements = _transaction is not null && _connection is NpgsqlConnection ? SqlClassifier.CountStatements(command.CommandText) : 1;
        if (_transaction is null || _connection is not NpgsqlConnection || statements > 1)
        {
            // No transaction (the command is a plain read, run in autocommit), SQLite (nothing to save), or several
            // statements in the text (a batch command takes one): the command, then the commit.
            int affected;
            try
            {
                affected = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                NoteError(translated);
                throw translated;
            }

            await CommitAsync(cancellationToken).ConfigureAwait(false);
            return affected;
        }

        ThrowIfBrokenBeforeCommit();
        cancellationToken.ThrowIfCancellationRequested();
        await FinishAsync((NpgsqlCommand)command, guard: statements == 0).ConfigureAwait(false);
        return _lastAffected;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> as the session's last statement and commits, creating the command itself (bound by
    /// <paramref name="bind"/>): a unit whose only write is this statement costs what raw Npgsql's autocommit statement costs.
    /// On PostgreSQL, when the session has not begun its transaction (nothing but reads ran, or nothing at all), the statement
    /// runs alone in autocommit: no BEGIN, no COMMIT, one statement on the wire, atomic on its own (several statements in
    /// <paramref name="sql"/> run as one implicit transaction). After an earlier write it runs in the transaction, followed
    /// by COMMIT in the same batch, as <see cref="ExecuteAndCommitAsync(DbCommand, CancellationToken)"/> does (a command from
    /// <see cref="CreateCommand"/> has begun the transaction already, which is why this overload exists). A read-only
    /// session runs it in its READ ONLY transaction. On SQLite the statement runs in the session's write transaction, begun
    /// without blocking a thread, and is committed. Opens the session when it is not open yet.
    /// </summary>
    /// <typeparam name="TState">What <paramref name="bind"/> needs, passed through so that a static lambda allocates nothing.</typeparam>
    /// <param name="sql">The statement.</param>
    /// <param name="state">Passed to <paramref name="bind"/>.</param>
    /// <param name="bind">Adds the parameters to the command; runs once, before anything is sent.</param>
    /// <param name="cancellationToken">Observed until the statement is sent; once sent it runs to completion.</param>
    /// <returns>The rows the statement affected.</returns>
    /// <exception cref="CommitOutcomeUnknownException">The connection broke with the statement (or COMMIT) in flight.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ExecuteAndCommitAsync<TState>(string sql, TState state, Action<DbCommand, TState> bind, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(bind);
        await OpenForStatementAsync(sql, cancellationToken).ConfigureAwait(false);
        // Autocommit only outside an ambient TransactionScope: a connection Npgsql enlisted (Pooling=false keeps Enlist=true)
        // would run the statement in the scope's transaction, which the scope may still roll back.
        if (_transaction is not null || IsReadOnly || _connection is not NpgsqlConnection npgsql || System.Transactions.Transaction.Current is not null)
        {
            await using DbCommand command = CreateCommand(sql);
            bind(command, state);
            return await ExecuteAndCommitAsync(command, cancellationToken).ConfigureAwait(false);
        }

        await using NpgsqlCommand autocommit = npgsql.CreateCommand();
        autocommit.CommandText = sql;
        bind(autocommit, state);
        ThrowIfBrokenBeforeCommit();
        cancellationToken.ThrowIfCancellationRequested();
        int affected;
        bool notReplicated;
        try
        {
            // Not cancellable once sent, as COMMIT: the statement commits itself, so cancelling would make its outcome unknown.
            using SynchronousReplicationWatch watch = SynchronousReplicationWatch.Start(npgsql);
            affected = await autocommit.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            notReplicated = watch.WaitWasCancelled();
        }
        catch (Exception ex) when (npgsql.FullState == ConnectionState.Open)
        {
            // The connection is intact, so Npgsql read the server's whole answer: the statement failed and, being its own
            // transaction, applied nothing (a server error, a statement timeout the server cancelled), or it was never sent
            // (parameters that cannot be written). Typed as an ordinary statement failure; the session is over either way.
            _state = SessionState.RolledBack;
            if (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
            {
                NoteError(translated);
                throw translated;
            }

            throw;
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Commit, _engine.Name) is { } translated)
        {
            // The connection or the answer was lost with the statement in flight: it may have been applied.
            _state = SessionState.RolledBack;
            throw translated is CommitOutcomeUnknownException ? ThrowHelper.LastStatementOutcomeUnknown(_engine.Name, ex, translated.SqlState) : translated;
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or NpgsqlOperationInProgressException))
        {
            // Any other failure that broke the connection (a protocol error reading the answer): it may have been applied.
            _state = SessionState.RolledBack;
            throw ThrowHelper.LastStatementOutcomeUnknown(_engine.Name, ex);
        }

        if (notReplicated)
        {
            // The statement committed itself on this server, but its wait for a synchronous standby was cancelled.
            _state = SessionState.RolledBack;
            throw ThrowHelper.CommitNotReplicated(_engine.Name);
        }

        _state = SessionState.Committed;
        return affected;
    }

    /// <summary>
    /// The connection broke earlier in the unit (an error the work caught): the server rolled the transaction back and COMMIT
    /// was never sent, so this is an ordinary connection failure, not an unknown outcome; retryable unless what broke the
    /// connection was the work's own doing or a cause DbCore does not retry, such as a timeout (<c>ThrowHelper.BrokenBeforeCommit</c>).
    /// </summary>
    private void ThrowIfBrokenBeforeCommit()
    {
        if (_connection!.State != ConnectionState.Open)
        {
            _state = SessionState.RolledBack;
            throw ThrowHelper.BrokenBeforeCommit(_engine.Name, BreakReason());
        }
    }

    /// <summary>
    /// The exception that broke the connection, when the session had begun its transaction: Npgsql disposes the transaction
    /// with it, and its public members throw an <see cref="ObjectDisposedException"/> whose inner exception it is. Null when
    /// unknown (no transaction yet, SQLite). Cold: only after the connection broke.
    /// </summary>
    private Exception? BreakReason()
    {
        if (_transaction is NpgsqlTransaction transaction)
        {
            try
            {
                _ = transaction.Connection;
            }
            catch (ObjectDisposedException disposed)
            {
                return disposed.InnerException;
            }
        }

        return null;
    }

    /// <summary>
    /// Sends COMMIT and types what fails: on PostgreSQL guarded (<see cref="GuardedCommit"/>), with <paramref name="last"/>
    /// in the same batch in front of it when given (<see cref="ExecuteAndCommitAsync"/>; <paramref name="guard"/>: its text
    /// holds no statement, so the batch needs the <c>SELECT 1</c> guard). Sets <see cref="_lastAffected"/> to the rows
    /// <paramref name="last"/> affected, else 0.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishAsync(NpgsqlCommand? last, bool guard = false)
    {
        int affected = 0;
        bool guardSent = false;
        bool commitSending = false;
        bool notReplicated = false;
        // A READ ONLY transaction that sent nothing with an effect at COMMIT applies nothing, so a COMMIT that broke on its way
        // is an ordinary connection failure there.
        ErrorPhase commitPhase = CommitAppliesNothing ? ErrorPhase.Execute : ErrorPhase.Commit;
        try
        {
            if (_connection is not NpgsqlConnection npgsql)
            {
                // Microsoft.Data.Sqlite's async commit runs its synchronous one. A transaction the work ended through the
                // provider's object is its decision; one that SQLite rolled back (an error the work caught) is not a success.
                if (!ProviderTransactionCompleted() && SqliteTransactions.TryCommit((SqliteConnection)_connection!, (SqliteTransaction)_transaction!) is not true and var committed)
                {
                    _state = SessionState.RolledBack;
                    if (committed is null)
                    {
                        throw ThrowHelper.SqliteTransactionEndedUnseen(_engine.Name);
                    }

                    CountRollback();
                    throw ThrowHelper.SqliteTransactionRolledBack(_engine.Name);
                }
            }
            else if (last is not null)
            {
                // The statement and COMMIT are written together: from here a failure may follow a commit.
                commitSending = true;
                using SynchronousReplicationWatch watch = SynchronousReplicationWatch.Start(npgsql);
                affected = await GuardedCommit.ExecuteAndCommitAsync(npgsql, last, guard).ConfigureAwait(false);
                notReplicated = watch.WaitWasCancelled();
            }
            else if (!ProviderTransactionCompleted())
            {
                // The guard: the server's last ReadyForQuery says whether an error (one the work caught) aborted the
                // transaction, in which case COMMIT would be answered with ROLLBACK (ServerTransactionStatus; no statement).
                // Where that status cannot be read, SAVEPOINT travels in front of Npgsql's own COMMIT instead (prepended, no
                // round trip of its own) and fails with 25P02 in an aborted transaction (GuardedCommit.Savepoint). Not
                // cancellable: once COMMIT is on the wire, cancelling would only make a known outcome unknown.
                var transaction = (NpgsqlTransaction)_transaction!;
                bool? aborted = _engine.ReadsTransactionStatus ? ServerTransactionStatus.IsAborted(npgsql) : null;
                if (aborted == true)
                {
                    throw await AbortedAsync(null).ConfigureAwait(false);
                }

                if (aborted is null)
                {
                    transaction.Save(GuardedCommit.Savepoint);
                    guardSent = true;
                }

                commitSending = true;
                using SynchronousReplicationWatch watch = SynchronousReplicationWatch.Start(npgsql);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                notReplicated = watch.WaitWasCancelled();
            }

            // Else the work ended the transaction itself (through the raw transaction or SQL): there is nothing to commit.
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InFailedSqlTransaction)
        {
            _guardRefused = guardSent;
            // PostgreSQL would have answered this COMMIT with ROLLBACK: an earlier statement failed and the work went on.
            throw await AbortedAsync(ex).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (last is not null && ErrorTranslator.Translate(ex, commitPhase, _engine.Name) is { } translated)
        {
            // The server reported an error, so nothing was applied: either the last statement failed (the server skipped the
            // guard and COMMIT; the transaction is aborted and is rolled back here) or COMMIT did (a deferred constraint,
            // a serialization failure; the server ended the transaction itself). Npgsql does not say which statement of a
            // batch failed unless the connection string asks it to, and the transaction's state tells both apart.
            NoteError(translated);
            if (TransactionEndedByProvider())
            {
                _state = SessionState.RolledBack;
            }
            else
            {
                await RollBackAbortedAsync().ConfigureAwait(false);
            }

            throw translated;
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, commitPhase, _engine.Name) is { } translated)
        {
            _state = SessionState.RolledBack;
            throw translated;
        }
        catch (Exception ex) when (ex is not (DbCoreException or OperationCanceledException or NpgsqlOperationInProgressException)
            && (_connection is NpgsqlConnection { FullState: not ConnectionState.Open } || (commitSending && !GuardedCommit.FailedBeforeSending(ex))))
        {
            // Any other failure once COMMIT was on its way, or that broke the connection (e.g. a protocol error while reading
            // the answer, which Npgsql raises as InvalidOperationException, breaking the connection or not): the server may
            // have committed. Before that, with the connection intact, nothing was lost (the guard's Save or a parameter
            // failed before sending): the exception is rethrown as it is and the session, still open, rolls back at dispose.
            // DbCore's own errors are never wrapped: an aborted transaction whose ROLLBACK found the connection dead (the
            // backend killed after the work swallowed an error) sent no COMMIT, so it stays a TransactionAbortedException.
            _state = SessionState.RolledBack;
            throw CommitAppliesNothing ? ThrowHelper.ReadOnlyCommitFailed(_engine.Name, ex) : ThrowHelper.CommitOutcomeUnknown(_engine.Name, ex);
        }

        if (notReplicated)
        {
            // Committed on this server, but the wait for a synchronous standby was cancelled: not the success it looks like.
            _state = SessionState.RolledBack;
            throw ThrowHelper.CommitNotReplicated(_engine.Name);
        }

        _state = SessionState.Committed;
        _lastAffected = affected;
    }

    /// <summary>
    /// Records the first database error seen in this session (for <see cref="DbCoreException.SqlState"/> of <see cref="TransactionAbortedException"/>).
    /// Called where DbCore runs the session's commands itself.
    /// </summary>
    internal void NoteError(DbCoreException error) => _firstError ??= error.SqlState;

    /// <summary>The accessor's name, for messages.</summary>
    internal string EngineName => _engine.Name;

    /// <summary>Rolls back the transaction the server aborted and builds the exception that says so.</summary>
    private async ValueTask<TransactionAbortedException> AbortedAsync(PostgresException? guard)
    {
        await RollBackAbortedAsync().ConfigureAwait(false);
        return ThrowHelper.TransactionAborted(_engine.Name, _firstError, guard);
    }

    /// <summary>Rolls back a transaction the server aborted (an error already thrown or about to be); the session is rolled back.</summary>
    private async ValueTask RollBackAbortedAsync()
    {
        _state = SessionState.RolledBack;
        CountRollback();
        if (_connection!.State != ConnectionState.Open)
        {
            return; // the guard's SAVEPOINT failed and Npgsql closed the connection: the server ended the transaction
        }

        try
        {
            await _transaction!.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception rollback)
        {
            // The session is disposed next, which returns (or discards) the connection either way.
            Log.RollbackFailed(_engine.Logger, _engine.Name, rollback);
        }
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
        if (_transaction is null)
        {
            return; // only reads ran: nothing to roll back
        }

        CountRollback();
        try
        {
            await _transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Execute, _engine.Name) is { } translated)
        {
            throw translated;
        }
    }
}
