using System;
using System.Diagnostics.CodeAnalysis;
using DbCore.Errors;

namespace DbCore.Internal;

/// <summary>Cold throw paths, kept out of hot methods.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSessionCompleted(bool committed)
        => throw new InvalidOperationException(committed
            ? "The session was already committed. A session is one unit of work: open a new session for more work."
            : "The session was already rolled back. A session is one unit of work: open a new session for more work.");

    [DoesNotReturn]
    public static void ThrowSessionOpening()
        => throw new InvalidOperationException("The session is being opened by another call that has not finished. A session is one connection and is not thread-safe: await each call before the next, or use a session per concurrent call.");

    /// <summary>A query method called while the session's connection still runs another command (PostgreSQL).</summary>
    public static InvalidOperationException CommandInProgress(string session, Exception inner)
        => new($"{session}: the session is still running another command: a stream still being read (a query called inside its await foreach), a data reader not yet disposed, or a call not awaited. A session is one connection and runs one command at a time: read the rows into a list first (a List<T> return), await each call before the next, or use a session per concurrent call.", inner);

    [DoesNotReturn]
    public static void ThrowSessionDisposed()
        => throw new ObjectDisposedException("DbSession", "The session was disposed. Open a new session for more work.");

    /// <summary>The exception for a COMMIT that PostgreSQL would have turned into a ROLLBACK.</summary>
    public static TransactionAbortedException TransactionAborted(string name, string? firstError, Exception? guard)
        => new(
            $"{name}: the transaction was aborted by an earlier statement that failed ({(firstError is null ? "its error was caught and not rethrown" : $"SQLSTATE {firstError}, caught and not rethrown")}), so PostgreSQL rolled it back and nothing was committed. Let the error propagate out of the unit of work, or recover from it with SAVEPOINT / ROLLBACK TO SAVEPOINT before going on.",
            guard,
            firstError ?? "25P02");

    /// <summary>SQLite rolled the session's transaction back before COMMIT (an error the work caught, or its own ROLLBACK statement).</summary>
    public static TransactionAbortedException SqliteTransactionRolledBack(string name, Exception? innerException = null)
        => new($"{name}: SQLite rolled the transaction back before the unit ended, so nothing was committed: an error the work caught and did not rethrow (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY and SQLITE_INTERRUPT may roll back the whole transaction, not only the statement), or a ROLLBACK statement the work sent. Let the error propagate out of the unit of work, and end the transaction through DbCore, not with a statement.", innerException);

    /// <summary>A SQLite transaction a statement ended on a connection that does not count commits: committed or rolled back.</summary>
    public static CommitOutcomeUnknownException SqliteTransactionEndedUnseen(string name)
        => new($"{name}: the transaction had already ended when the unit committed (a COMMIT or ROLLBACK statement the work sent, or SQLite's own rollback after an error the work caught), and this connection cannot tell which; it may or may not have been applied. Check before running it again, and end the transaction through DbCore, not with a statement.");

    /// <summary>A COMMIT whose connection broke for a reason the error translator does not know.</summary>
    public static CommitOutcomeUnknownException CommitOutcomeUnknown(string name, Exception exception)
        => new(Redaction.RedactText($"{name}: the connection failed during COMMIT ({exception.GetType().Name}); the transaction may or may not have been applied. {exception.Message}"), exception);

    /// <summary>
    /// The connection was lost with an autocommit last statement in flight (<c>ExecuteAndCommitAsync</c> with no
    /// transaction): the statement commits itself, so it may have been applied.
    /// </summary>
    public static CommitOutcomeUnknownException LastStatementOutcomeUnknown(string name, Exception exception, string? sqlState = null)
        => new(Redaction.RedactText($"{name}: the connection was lost while the unit's last statement ran in autocommit (it commits itself; {exception.GetType().Name}); it may or may not have been applied. Check before running it again. {exception.Message}"), exception, sqlState);

    /// <summary>
    /// The server answered COMMIT (or an autocommit last statement) with success after cancelling its wait for a synchronous
    /// standby (<see cref="SynchronousReplicationWatch"/>): committed on this server, confirmed by no synchronous standby.
    /// </summary>
    public static CommitOutcomeUnknownException CommitNotReplicated(string name)
        => new($"{name}: the server cancelled COMMIT's wait for a synchronous standby (its warning: canceling wait for synchronous replication; the command timeout or a cancel request ended the wait). PostgreSQL keeps such a transaction committed on this server, but no synchronous standby confirmed it, so a failover may lose it: its outcome is unknown. Check the synchronous standbys (pg_stat_replication, synchronous_standby_names), and whether the transaction is there, before running it again; not retried, not verified.", innerException: null, SynchronousReplicationWatch.CancelledSqlState)
        {
            NotReplicated = true,
        };

    /// <summary>
    /// A read-only unit's COMMIT failed in a way the error translator does not know. Its transaction is READ ONLY, so it applied
    /// nothing: an ordinary connection failure, safe to run again.
    /// </summary>
    public static ConnectionFailureException ReadOnlyCommitFailed(string name, Exception exception)
        => new(Redaction.RedactText($"{name}: the connection failed while a read-only unit committed ({exception.GetType().Name}); its transaction is READ ONLY, so nothing was applied. {exception.Message}"), exception, isTransient: true);

    /// <summary>
    /// A statement of a session whose connection had already broken (or was closed): it was not sent. Not transient: what the
    /// session sent outside its transaction (a read-only unit's reads, which may call functions; a library that reopened
    /// <c>session.Connection</c>) may have been committed, and a break caused by the work's own argument recurs.
    /// </summary>
    /// <param name="name">The database's name.</param>
    /// <param name="reason">What broke the connection, when known (<c>DbSession.BreakReason</c>): the inner exception.</param>
    public static ConnectionFailureException BrokenEarlier(string name, Exception? reason)
        => new($"{name}: the session's connection broke or was closed earlier in this session (for example after an error that was caught and not rethrown, or while the session waited, as Npgsql's keepalive finds a server that went away), so this statement was not sent and the server rolled back any open transaction. Let the first error propagate, or open a new session.", reason, isTransient: false);

    /// <summary>
    /// COMMIT of a unit whose connection had already broken: nothing was sent, nothing was applied. Transient when the cause
    /// is unknown or is an error DbCore retries when it ends a unit (<paramref name="reason"/> translates to a transient
    /// error: 57P01, an I/O error); not when it is no provider error (a parameter Npgsql cannot write: the same work breaks
    /// the connection again) or one DbCore does not retry (a timeout, which may also mean a statement still running).
    /// </summary>
    public static ConnectionFailureException BrokenBeforeCommit(string name, Exception? reason)
    {
        DbCoreException? translated = reason is null ? null : ErrorTranslator.Translate(reason, ErrorPhase.Execute, name);
        bool transient = reason is null || translated is { IsTransient: true };
        string because = reason is null
            ? "an error that was caught and not rethrown"
            : Redaction.RedactText($"{reason.GetType().Name}, caught and not rethrown: {reason.Message}");
        string retry = transient ? ""
            : translated is null ? " Not retried: the work's own error broke the connection, and the same work breaks it again; let that error propagate or fix its cause."
            : $" Not retried: its cause ({translated.GetType().Name}) is not one DbCore retries when it ends a unit.";
        return new($"{name}: the connection broke earlier in this unit of work ({because}), so the server rolled the transaction back; nothing was committed.{retry}", reason, isTransient: transient, sqlState: translated?.SqlState);
    }
}
