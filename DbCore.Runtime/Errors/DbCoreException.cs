using System;

namespace DbCore;

/// <summary>
/// A database error raised through DbCore. Subclasses name the category; <see cref="Exception.InnerException"/> keeps the
/// provider's exception. Messages never contain a password.
/// </summary>
public class DbCoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The redacted message.</param>
    /// <param name="innerException">The provider exception.</param>
    /// <param name="isTransient">Whether running the unit of work again is safe and may succeed.</param>
    /// <param name="sqlState">The PostgreSQL SQLSTATE or the SQLite extended result code.</param>
    /// <param name="constraintName">The violated constraint, where the provider reports it.</param>
    /// <param name="tableName">The table, where the provider reports it.</param>
    public DbCoreException(string message, Exception? innerException = null, bool isTransient = false, string? sqlState = null, string? constraintName = null, string? tableName = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
        SqlState = sqlState;
        ConstraintName = constraintName;
        TableName = tableName;
    }

    /// <summary>
    /// Whether DbCore considers running the whole unit of work again safe and useful. False for an error that is transient
    /// in itself (a 40001) when the unit that failed can no longer be run again safely: a unit nested in it committed, or
    /// the work committed or ended the transaction itself; an outer retry (Polly) that handles only transient errors then
    /// leaves it alone.
    /// </summary>
    public bool IsTransient { get; internal set; }

    /// <summary>The PostgreSQL SQLSTATE (e.g. <c>23505</c>) or the SQLite extended result code (e.g. <c>2067</c>).</summary>
    public string? SqlState { get; }

    /// <summary>The name of the violated constraint, where the provider reports it.</summary>
    public string? ConstraintName { get; }

    /// <summary>The table involved, where the provider reports it.</summary>
    public string? TableName { get; }

    /// <summary>
    /// How many times the unit of work ran before this exception ended it (1 when it was not retried). Exceptions raised
    /// outside a unit of work (a scoped session's <c>CommitAsync</c>, a query method) report 1. Use it to see retries hidden
    /// behind the exception, and to avoid retrying again on top of DbCore (see docs/resilience.md).
    /// </summary>
    public int Attempts { get; internal set; } = 1;

    /// <summary>
    /// The exception with its inner exceptions and stack traces, as <see cref="Exception.ToString"/> writes it, with
    /// secret-looking text masked (<c>Password=...</c>): a provider's message may quote a value it could not convert
    /// (PostgreSQL's "invalid input syntax" does), and loggers write this text.
    /// </summary>
    /// <returns>The redacted text.</returns>
    public override string ToString() => Internal.Redaction.RedactText(base.ToString());
}

/// <summary>A unique or primary key constraint was violated (PostgreSQL 23505, SQLite 2067/1555).</summary>
public sealed class UniqueViolationException(string message, Exception? innerException = null, string? sqlState = null, string? constraintName = null, string? tableName = null)
    : DbCoreException(message, innerException, false, sqlState, constraintName, tableName);

/// <summary>A foreign key constraint was violated (PostgreSQL 23503, SQLite 787).</summary>
public sealed class ForeignKeyViolationException(string message, Exception? innerException = null, string? sqlState = null, string? constraintName = null, string? tableName = null)
    : DbCoreException(message, innerException, false, sqlState, constraintName, tableName);

/// <summary>A NOT NULL constraint was violated (PostgreSQL 23502, SQLite 1299).</summary>
public sealed class NotNullViolationException(string message, Exception? innerException = null, string? sqlState = null, string? constraintName = null, string? tableName = null)
    : DbCoreException(message, innerException, false, sqlState, constraintName, tableName);

/// <summary>A CHECK constraint was violated (PostgreSQL 23514, SQLite 275).</summary>
public sealed class CheckViolationException(string message, Exception? innerException = null, string? sqlState = null, string? constraintName = null, string? tableName = null)
    : DbCoreException(message, innerException, false, sqlState, constraintName, tableName);

/// <summary>An exclusion constraint was violated (PostgreSQL 23P01).</summary>
public sealed class ExclusionViolationException(string message, Exception? innerException = null, string? sqlState = null, string? constraintName = null, string? tableName = null)
    : DbCoreException(message, innerException, false, sqlState, constraintName, tableName);

/// <summary>A serializable transaction could not be serialized (PostgreSQL 40001); transient.</summary>
public sealed class SerializationFailureException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, true, sqlState);

/// <summary>The server broke a deadlock by aborting this transaction (PostgreSQL 40P01); transient.</summary>
public sealed class DeadlockDetectedException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, true, sqlState);

/// <summary>The connection could not be made or broke before the commit (network, server shutdown 57P01..57P03).</summary>
public sealed class ConnectionFailureException(string message, Exception? innerException = null, bool isTransient = true, string? sqlState = null)
    : DbCoreException(message, innerException, isTransient, sqlState);

/// <summary>No connection became free within the acquire timeout. Not retried: retrying adds load to an exhausted pool.</summary>
public sealed class PoolExhaustedException(string message, Exception? innerException = null)
    : DbCoreException(message, innerException, false);

/// <summary>A command ran longer than the command timeout or was cancelled by the server (57014). Not retried.</summary>
public sealed class CommandTimeoutException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, false, sqlState);

/// <summary>
/// A lock was not granted in time: SQLite reported BUSY or LOCKED after its busy timeout, or PostgreSQL's
/// <c>lock_timeout</c> ran out (55P03). Nothing of the transaction was applied; transient. (55P03 raised by <c>NOWAIT</c>
/// itself, the work's own choice not to wait, stays a plain <see cref="DbCoreException"/> and is not retried.)
/// </summary>
public sealed class DatabaseBusyException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, true, sqlState);

/// <summary>
/// The server aborted the transaction because a statement in it failed (an error the work caught and did not rethrow), so
/// PostgreSQL answers COMMIT with ROLLBACK: nothing was committed. Not transient: running the same work again hits the same
/// error. <see cref="DbCoreException.SqlState"/> is the first error's SQLSTATE when DbCore saw it, else <c>25P02</c>
/// (in_failed_sql_transaction). Let the error propagate, or recover with a savepoint (<c>SAVEPOINT</c> /
/// <c>ROLLBACK TO SAVEPOINT</c>) before continuing. SQLite does not abort a transaction on a failed statement.
/// </summary>
public sealed class TransactionAbortedException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, false, sqlState);

/// <summary>
/// The connection broke while COMMIT was in flight: the transaction may or may not have been applied. Never retried blindly.
/// </summary>
public sealed class CommitOutcomeUnknownException(string message, Exception? innerException = null, string? sqlState = null)
    : DbCoreException(message, innerException, false, sqlState)
{
    /// <summary>
    /// The server committed locally, but its wait for a synchronous standby was cancelled (<see cref="SynchronousReplicationWatch"/>):
    /// asking the server (verified mode) would find the transaction committed, which is not the durability the caller asked
    /// for, so such an outcome is not verified.
    /// </summary>
    internal bool NotReplicated { get; init; }
}
