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

/// <content>Ending the unit of work: commit (guarded on PostgreSQL), rollback, and a last statement that commits with it.</content>
public abstract partial class DbSession
{
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

        if (_transaction is null)
        {
            // Only reads ran (PostgreSQL read path): there is nothing to commit and no statement to send.
            _state = SessionState.Committed;
            return;
        }

        if (_connection!.State != ConnectionState.Open)
        {
            // The connection broke earlier in the unit (an error the work caught): the server rolled the transaction back
            // and COMMIT was never sent, so this is an ordinary, retryable connection failure, not an unknown outcome.
            _state = SessionState.RolledBack;
            throw ThrowHelper.BrokenBeforeCommit(_engine.Name);
        }

        // Cancellation is honoured up to here. Once COMMIT is sent it runs to completion (bounded by the command timeout):
        // cancelling it half-way would only turn a known outcome into an unknown one.
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            if (_connection is NpgsqlConnection npgsql)
            {
                await GuardedCommit.CommitAsync(npgsql).ConfigureAwait(false);
            }
            else
            {
                await _transaction!.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InFailedSqlTransaction)
        {
            // PostgreSQL would have answered this COMMIT with ROLLBACK: an earlier statement failed and the work went on.
            throw await AbortedAsync(ex).ConfigureAwait(false);
        }
        catch (Exception ex) when (ErrorTranslator.Translate(ex, ErrorPhase.Commit, _engine.Name) is { } translated)
        {
            _state = SessionState.RolledBack;
            throw translated;
        }
        catch (Exception ex) when (_connection is NpgsqlConnection && ex is not (OperationCanceledException or NpgsqlOperationInProgressException))
        {
            // Any other failure with COMMIT on the wire (e.g. a protocol error while reading the answer, which Npgsql raises
            // as InvalidOperationException): the server may have committed.
            _state = SessionState.RolledBack;
            throw ThrowHelper.CommitOutcomeUnknown(_engine.Name, ex);
        }

        _state = SessionState.Committed;
    }

    /// <summary>
    /// Records the first database error seen in this session (for <see cref="DbCoreException.SqlState"/> of <see cref="TransactionAbortedException"/>).
    /// Called where DbCore runs the session's commands itself.
    /// </summary>
    internal void NoteError(DbCoreException error) => _firstError ??= error.SqlState;

    /// <summary>The accessor's name, for messages.</summary>
    internal string EngineName => _engine.Name;

    /// <summary>Rolls back the transaction the server aborted and builds the exception that says so.</summary>
    private async ValueTask<TransactionAbortedException> AbortedAsync(PostgresException guard)
    {
        _state = SessionState.RolledBack;
        CountRollback();
        try
        {
            await _transaction!.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception rollback)
        {
            // The session is disposed next, which returns (or discards) the connection either way.
            Log.RollbackFailed(_engine.Logger, _engine.Name, rollback);
        }

        return ThrowHelper.TransactionAborted(_engine.Name, _firstError, guard);
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
