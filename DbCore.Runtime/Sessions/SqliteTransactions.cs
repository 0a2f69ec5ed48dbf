using System;
using System.Data;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using DbCore.Infrastructure;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace DbCore;

/// <summary>
/// How a session begins its transaction. PostgreSQL: the provider's own BEGIN. SQLite: a read-only session begins a
/// deferred (read) transaction, which takes no lock until it reads and, on a WAL file, never waits for a writer; a write
/// session begins <c>BEGIN IMMEDIATE</c> and waits for the write lock with <c>Task.Delay</c>, holding no thread.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite sets no <c>sqlite3_busy_timeout</c>: its busy wait is its own loop around
/// <c>sqlite3_prepare_v2</c>/<c>sqlite3_step</c> (reset, <c>Thread.Sleep(150)</c>, again) until the command's
/// <c>CommandTimeout</c> seconds have passed (0 = forever), and the BEGIN of <c>BeginTransaction</c> runs as a command whose
/// timeout is the connection's <c>DefaultTimeout</c> (the <c>Default Timeout</c> keyword, which DbCore sets from
/// <c>CommandTimeoutSeconds</c>). That loop gives up at the first BUSY when the timeout is below zero (it compares the time
/// waited with <c>CommandTimeout * 1000</c>), so each try here sets <c>DefaultTimeout</c> to -1 for the BEGIN alone,
/// and the wait between tries is ours: a short backoff with jitter until <c>Default Timeout</c> is used up, then the last
/// BUSY is thrown as it is (the session translates it into <see cref="DatabaseBusyException"/>). Tests in
/// <c>SqliteLockingTests</c> pin this behaviour of Microsoft.Data.Sqlite.
/// </remarks>
internal static class SqliteTransactions
{
    /// <summary>A <c>CommandTimeout</c> that makes Microsoft.Data.Sqlite's busy loop give up at the first BUSY.</summary>
    private const int NoWait = -1;

    private const int MaxDelayMilliseconds = 50;

    /// <summary>
    /// Whether <paramref name="exception"/> is Microsoft.Data.Sqlite refusing a statement because its transaction is over
    /// ("This SqliteTransaction has completed"), as it does after SQLite rolled the transaction back itself. By its message,
    /// not by <see cref="Exception.Source"/>: once dynamic PGO inlines <c>SqliteCommand.ExecuteNonQuery</c> into
    /// <c>DbCommand.ExecuteNonQueryAsync</c> (guarded devirtualization), the throwing frame, and so the Source, is
    /// System.Data.Common's, so a Source check would depend on the JIT. Microsoft.Data.Sqlite ships no translated messages.
    /// </summary>
    public static bool IsProviderRefusal(Exception exception)
        => exception.GetType() == typeof(InvalidOperationException)
            && exception.Message.StartsWith(TransactionCompletedMessage, StringComparison.Ordinal);

    /// <summary>The start of Microsoft.Data.Sqlite's <c>TransactionCompleted</c> message.</summary>
    private const string TransactionCompletedMessage = "This SqliteTransaction has completed";

    /// <summary>Begins the session's transaction; a SQLite writer waits for the write lock without blocking a thread.</summary>
    public static ValueTask<DbTransaction> BeginAsync(DbConnection connection, bool readOnly, CancellationToken cancellationToken)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return connection.BeginTransactionAsync(cancellationToken);
        }

        if (readOnly)
        {
            return new ValueTask<DbTransaction>(sqlite.BeginTransaction(deferred: true));
        }

        return TryBeginImmediate(sqlite, out SqliteTransaction? transaction, out SqliteException? busy)
            ? new ValueTask<DbTransaction>(transaction)
            : WaitForWriteLockAsync(sqlite, busy, cancellationToken);
    }

    /// <summary>
    /// The synchronous API's BEGIN: read-only SQLite sessions are deferred as in <see cref="BeginAsync"/>; a writer waits for
    /// the write lock blocking this thread (<see cref="Thread.Sleep(TimeSpan)"/> between tries, as Microsoft.Data.Sqlite's
    /// own busy wait does), which is what a synchronous caller asked for. The same tries as <see cref="BeginAsync"/>, so a
    /// BUSY that waiting cannot end (SQLITE_BUSY_SNAPSHOT) fails at once here too, not after the busy timeout.
    /// </summary>
    public static DbTransaction Begin(DbConnection connection, bool readOnly)
    {
        if (connection is not SqliteConnection sqlite)
        {
            return connection.BeginTransaction();
        }

        if (readOnly)
        {
            return sqlite.BeginTransaction(deferred: true);
        }

        if (TryBeginImmediate(sqlite, out SqliteTransaction? transaction, out SqliteException? busy))
        {
            return transaction;
        }

        long start = Stopwatch.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            Thread.Sleep(NextDelay(sqlite, busy, start, attempt));
            if (TryBeginImmediate(sqlite, out transaction, out SqliteException? again))
            {
                return transaction;
            }

            busy = again;
        }
    }

    /// <summary>
    /// Commits a SQLite session's transaction, telling apart what Microsoft.Data.Sqlite's transaction object cannot: whether
    /// a statement ended the transaction behind it (the connection knows: <c>sqlite3_get_autocommit</c>, and the commit
    /// counter of <see cref="ReusableSqliteConnection"/>). True when it is committed, by this call or by a COMMIT statement
    /// the work sent. False when SQLite had rolled it back before: after an error the work caught (SQLITE_FULL,
    /// SQLITE_IOERR, SQLITE_NOMEM, SQLITE_BUSY and SQLITE_INTERRUPT may roll back the whole transaction, not only the
    /// statement), or a ROLLBACK statement the work sent; the provider's rollback hook sees both alike. Null when it ended
    /// behind the provider's back on a connection that does not count commits (the cache is off), so either may be true.
    /// </summary>
    public static bool? TryCommit(SqliteConnection connection, SqliteTransaction transaction)
    {
        try
        {
            transaction.Commit();
            return true;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == raw.SQLITE_ERROR && InAutocommit(connection))
        {
            // "cannot commit - no transaction is active" and no rollback seen since BEGIN (the provider would have refused
            // the commit as below): a COMMIT (or END) statement of the work committed it. The provider's object still thinks
            // it is open and would send ROLLBACK at dispose, and fail: an empty transaction lets it complete, so the
            // connection stays reusable.
            using (SqliteCommand begin = connection.CreateCommand())
            {
                begin.Transaction = transaction;
                begin.CommandText = "BEGIN";
                begin.ExecuteNonQuery();
            }

            transaction.Rollback();
            return true;
        }
        catch (InvalidOperationException) when (connection.State == ConnectionState.Open && InAutocommit(connection))
        {
            // "This SqliteTransaction has completed": the provider's rollback hook saw a rollback since BEGIN. Of the
            // transaction, unless a COMMIT statement came first and the rollback was a later autocommit statement's.
            return connection is ReusableSqliteConnection reusable ? reusable.CommittedSinceBegin : null;
        }
    }

    /// <summary>Whether the connection is in autocommit: no transaction is active on it, whatever its provider object says.</summary>
    public static bool InAutocommit(SqliteConnection connection)
        => connection.Handle is { } handle && raw.sqlite3_get_autocommit(handle) != 0;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<DbTransaction> WaitForWriteLockAsync(SqliteConnection sqlite, SqliteException busy, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        for (int attempt = 1; ; attempt++)
        {
            await Task.Delay(NextDelay(sqlite, busy, start, attempt), cancellationToken).ConfigureAwait(false);
            if (TryBeginImmediate(sqlite, out SqliteTransaction? transaction, out SqliteException? again))
            {
                return transaction;
            }

            busy = again;
        }
    }

    /// <summary>
    /// The wait before try <paramref name="attempt"/> + 1: <see cref="Delay"/>, cut to what is left of the connection's
    /// <c>Default Timeout</c> (0 = no limit); throws the last <paramref name="busy"/> as it is when nothing is left.
    /// </summary>
    private static TimeSpan NextDelay(SqliteConnection sqlite, SqliteException busy, long start, int attempt)
    {
        TimeSpan delay = Delay(attempt);
        int timeoutSeconds = sqlite.DefaultTimeout;
        if (timeoutSeconds == 0)
        {
            return delay;
        }

        TimeSpan remaining = TimeSpan.FromSeconds(timeoutSeconds) - Stopwatch.GetElapsedTime(start);
        if (remaining <= TimeSpan.Zero)
        {
            ExceptionDispatchInfo.Throw(busy);
        }

        return remaining < delay ? remaining : delay;
    }

    /// <summary>1, 2, 4 ... ms up to 50 ms, each between half and all of it, so waiting writers do not poll in step.</summary>
    private static TimeSpan Delay(int attempt)
    {
        int ceiling = Math.Min(MaxDelayMilliseconds, 1 << Math.Min(attempt - 1, 6));
        return TimeSpan.FromMilliseconds(ceiling == 1 ? 1 : Random.Shared.Next((ceiling / 2) + 1, ceiling + 1));
    }

    /// <summary>One <c>BEGIN IMMEDIATE</c> that returns at once: the transaction, or false and the BUSY (or LOCKED) error.</summary>
    private static bool TryBeginImmediate(SqliteConnection sqlite, [NotNullWhen(true)] out SqliteTransaction? transaction, [NotNullWhen(false)] out SqliteException? busy)
    {
        int defaultTimeout = sqlite.DefaultTimeout;
        sqlite.DefaultTimeout = NoWait;
        try
        {
            transaction = sqlite.BeginTransaction(deferred: false);
            busy = null;
            return true;
        }
        catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) is 5 or 6 && ex.SqliteExtendedErrorCode != Errors.ErrorTranslator.SqliteBusySnapshot)
        {
            // SQLITE_BUSY, SQLITE_LOCKED (shared cache): another connection holds the write lock, so waiting helps. Not
            // SQLITE_BUSY_SNAPSHOT, which this connection's own open reader causes: thrown at once, waiting cannot end it.
            transaction = null;
            busy = ex;
            return false;
        }
        finally
        {
            sqlite.DefaultTimeout = defaultTimeout;
        }
    }
}
