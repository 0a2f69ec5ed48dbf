using System;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using DbCore.Infrastructure;
using DbCore.Internal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Errors;

/// <summary>
/// Turns provider exceptions into the <see cref="DbCoreException"/> hierarchy. Transience is decided here, per phase
/// and inner exception, never by the provider's own <c>IsTransient</c> (Npgsql calls pool exhaustion and command
/// timeouts transient; retrying them adds load to a server that is already overloaded).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="ErrorPhase.Acquire"/>: nothing was sent, so a broken or refused connection is always safe to retry;
/// a timeout is pool exhaustion (not retried) when every pooled connection is in use, else a connect timeout.</item>
/// <item><see cref="ErrorPhase.Execute"/>: the transaction is still open, so losing the connection rolls it back on the
/// server: safe to run the whole unit of work again.</item>
/// <item><see cref="ErrorPhase.Commit"/>: COMMIT was sent; any loss of the connection or the answer (I/O error, timeout,
/// admin shutdown) leaves the outcome unknown, which is never retried blindly. An error the server reports for the
/// COMMIT itself (serialization failure, deferred constraint) means nothing was applied.</item>
/// </list>
/// </remarks>
internal static class ErrorTranslator
{
    /// <summary>The translated exception, or <see langword="null"/> when <paramref name="exception"/> is no provider error.</summary>
    public static DbCoreException? Translate(Exception exception, ErrorPhase phase, DatabaseEngine engine)
        => Translate(exception, phase, engine.Name, engine);

    /// <summary>The translated exception, or <see langword="null"/> when <paramref name="exception"/> is no provider error.</summary>
    public static DbCoreException? Translate(Exception exception, ErrorPhase phase, string name)
        => Translate(exception, phase, name, null);

    private static DbCoreException? Translate(Exception exception, ErrorPhase phase, string name, DatabaseEngine? engine)
    {
        if (exception is DbCoreException or OperationCanceledException)
        {
            // Cancellation stays cancellation, even when Npgsql puts the server's 57014 inside it.
            return null;
        }

        if (TranslateDirect(exception, phase, name, engine) is { } direct)
        {
            return direct;
        }

        // A provider error inside another library's wrapper (EF Core's DbUpdateException, an InvalidOperationException
        // around a PostgresException, a TargetInvocationException) is typed like a direct one.
        Exception? inner = exception.InnerException;
        for (int depth = 0; inner is not null && depth < MaxWrapperDepth; depth++, inner = inner.InnerException)
        {
            if (inner is DbCoreException)
            {
                return null;
            }

            if (IsProviderException(inner) && TranslateDirect(inner, phase, name, engine) is { } wrapped)
            {
                return wrapped;
            }
        }

        return null;
    }

    private const int MaxWrapperDepth = 8;

    private static bool IsProviderException(Exception exception) => exception is NpgsqlException or SqliteException;

    private static DbCoreException? TranslateDirect(Exception exception, ErrorPhase phase, string name, DatabaseEngine? engine)
    {
        switch (exception)
        {
            case PostgresException pg:
                return FromPostgres(pg, phase, name);
            case NpgsqlException npgsql:
                return FromNpgsql(npgsql, phase, name, engine);
            case SqliteException sqlite:
                return FromSqlite(sqlite, phase, name);
            case IOException or SocketException when phase == ErrorPhase.Commit:
                return new CommitOutcomeUnknownException(Message(name, "the connection broke during COMMIT; the transaction may or may not have been applied", exception), exception);
            default:
                return null;
        }
    }

    /// <summary>25006 in a read-write unit: the server it reached is read-only (a standby, or a primary being demoted).</summary>
    public static ConnectionFailureException ServerIsReadOnly(string name, DbCoreException failure)
        => new(
            Message(name, "the server refused a write because it is read-only: this unit reached a standby or a primary being demoted (a failover in progress?); the hosts are asked again and the unit is retried (SQLSTATE 25006)", null),
            failure.InnerException,
            isTransient: true,
            failure.SqlState);

    private static DbCoreException FromPostgres(PostgresException pg, ErrorPhase phase, string name)
    {
        string state = pg.SqlState;
        string message = Message(name, $"{pg.MessageText} (SQLSTATE {state}{Describe(pg.ConstraintName, pg.TableName)})", null);
        switch (state)
        {
            case PostgresErrorCodes.UniqueViolation:
                return new UniqueViolationException(message, pg, state, pg.ConstraintName, pg.TableName);
            case PostgresErrorCodes.ForeignKeyViolation:
                return new ForeignKeyViolationException(message, pg, state, pg.ConstraintName, pg.TableName);
            case PostgresErrorCodes.NotNullViolation:
                return new NotNullViolationException(message, pg, state, pg.ConstraintName, pg.TableName);
            case PostgresErrorCodes.CheckViolation:
                return new CheckViolationException(message, pg, state, pg.ConstraintName, pg.TableName);
            case PostgresErrorCodes.ExclusionViolation:
                return new ExclusionViolationException(message, pg, state, pg.ConstraintName, pg.TableName);
            case PostgresErrorCodes.SerializationFailure:
                // Also at COMMIT: the server reported the failure, so nothing was applied and a retry is safe.
                return new SerializationFailureException(message, pg, state);
            case PostgresErrorCodes.DeadlockDetected:
                return new DeadlockDetectedException(message, pg, state);
            case PostgresErrorCodes.LockNotAvailable when pg.Routine == LockTimeoutRoutine:
                // 55P03 from lock_timeout: the lock's holder did not finish in time. The server aborted this transaction, so
                // nothing of it is applied; SQLite's BUSY after its busy wait, on PostgreSQL. The same SQLSTATE from NOWAIT
                // (raised where the lock is taken, not here) is the work's own "do not wait" and stays a plain error.
                return new DatabaseBusyException(message, pg, state);
            case PostgresErrorCodes.InFailedSqlTransaction:
                // 25P02: an earlier statement failed and the work went on; the server rolls the transaction back.
                return new TransactionAbortedException(Message(name, "the transaction was aborted by an earlier statement that failed and whose error was caught; nothing will be committed. Let the error propagate, or recover with SAVEPOINT / ROLLBACK TO SAVEPOINT", null), pg, state);
            case PostgresErrorCodes.QueryCanceled:
                // statement_timeout or a cancel request: the server aborted the statement, so even at COMMIT nothing was applied.
                return new CommandTimeoutException(message, pg, state);
            case PostgresErrorCodes.AdminShutdown:
            case PostgresErrorCodes.CrashShutdown:
            case PostgresErrorCodes.CannotConnectNow:
                // At COMMIT a terminated backend may already have committed locally (e.g. while waiting for a synchronous standby).
                return phase == ErrorPhase.Commit
                    ? new CommitOutcomeUnknownException(Message(name, $"the server ended the connection during COMMIT (SQLSTATE {state}); the transaction may or may not have been applied", null), pg, state)
                    : new ConnectionFailureException(message, pg, isTransient: true, state);
            case PostgresErrorCodes.IdleSessionTimeout:
            case IdleInTransactionSessionTimeout:
                // The server closed a connection that sat idle (idle_session_timeout) or idle inside the transaction
                // (idle_in_transaction_session_timeout) before this statement or COMMIT arrived: it rolled the transaction
                // back itself, so nothing was applied, even at COMMIT. Safe to run the unit again on a new connection.
                return new ConnectionFailureException(message, pg, isTransient: true, state);
            case PostgresErrorCodes.ProtocolViolation when pg.MessageText == PgBouncerQueryWaitTimeout:
                // The client waited query_wait_timeout in PgBouncer's queue for a server connection: its pool stayed full
                // (or was paused, or PgBouncer could not reach the server yet), so the statement never reached the server,
                // in any phase. DbCore's own pool exhaustion one level down: not retried, another attempt waits as long again.
                return new PoolExhaustedException(Message(name, $"PgBouncer found no free server connection for this database within its query_wait_timeout (SQLSTATE {state}): its pool stayed full (or it could not reach the server), so the statement never reached the server. Shorten the transactions that hold PgBouncer's server connections, or raise its default_pool_size or query_wait_timeout; not retried", null), pg);
            case PostgresErrorCodes.ProtocolViolation when pg.MessageText is PgBouncerQueryTimeout or "query_timeout":
                // PgBouncer's query_timeout ended a statement that ran too long (and closed the connection): DbCore's
                // command timeout one level down, not retried. During COMMIT the COMMIT may have been applied.
                return phase == ErrorPhase.Commit
                    ? new CommitOutcomeUnknownException(Message(name, $"PgBouncer's query_timeout ended the connection during COMMIT (SQLSTATE {state}); the transaction may or may not have been applied", null), pg, state)
                    : new CommandTimeoutException(Message(name, $"PgBouncer's query_timeout ended the statement (SQLSTATE {state}); raise query_timeout or make the statement faster; not retried", null), pg, state);
            case PostgresErrorCodes.ProtocolViolation when pg.Routine is not null && pg.InvariantSeverity == "ERROR":
                // PostgreSQL's own 08P01 at ERROR level (a Bind with the wrong number of values, a malformed message): the
                // client's mistake, on a connection that stays usable; another attempt repeats it. PgBouncer's 08P01s name
                // no routine (and usually end the connection): they fall through to the 08 class below.
                return new DbCoreException(Message(name, $"{pg.MessageText} (SQLSTATE {state}): the server refused the statement's protocol message, which another attempt would send again; not retried", null), pg, false, state, null, null);
            case PostgresErrorCodes.FeatureNotSupported when pg.Routine == RevalidateCachedQueryRoutine:
                // 0A000 "cached plan must not change result type": a schema change (a migration altering a column a prepared
                // statement returns) invalidated a plan that automatic preparation (Max Auto Prepare) or an explicit
                // Prepare() made. The server aborted the transaction, Npgsql invalidates the prepared statement on any 0A000
                // (NpgsqlDataReader.NextResult), and the unit's next attempt prepares it anew and succeeds
                // (A_prepared_plan_a_schema_change_invalidated_is_transient_and_the_unit_runs_again). Other 0A000s (a feature
                // the server does not have) fail the same way every time and stay plain errors below.
                return new DbCoreException(Message(name, $"{pg.MessageText} (SQLSTATE {state}): a schema change altered the result of a prepared statement; it is prepared again when the unit runs again", null), pg, true, state, null, null);
            case PostgresErrorCodes.TooManyConnections:
                // max_connections or a role/database CONNECTION LIMIT: nothing was sent; another attempt may get a slot.
                return new ConnectionFailureException(message, pg, isTransient: true, state);
            case PostgresErrorCodes.DatabaseDropped:
            case PostgresErrorCodes.InvalidCatalogName:
                // 57P04 / 3D000: the database is gone or was never there; running the unit again cannot help.
                return new ConnectionFailureException(message, pg, isTransient: false, state);
        }

        if (state.StartsWith("28", StringComparison.Ordinal))
        {
            // Authentication or authorization failed (wrong password, no pg_hba.conf entry): fix the configuration.
            return new ConnectionFailureException(message, pg, isTransient: false, state);
        }

        if (state.StartsWith("08", StringComparison.Ordinal))
        {
            return phase == ErrorPhase.Commit
                ? new CommitOutcomeUnknownException(Message(name, $"the connection failed during COMMIT (SQLSTATE {state}); the transaction may or may not have been applied", null), pg, state)
                : new ConnectionFailureException(message, pg, isTransient: true, state);
        }

        return new DbCoreException(message, pg, false, state, pg.ConstraintName, pg.TableName);
    }

    private static DbCoreException? FromNpgsql(NpgsqlException npgsql, ErrorPhase phase, string name, DatabaseEngine? engine)
    {
        if (npgsql is NpgsqlOperationInProgressException)
        {
            // A usage error (a second command while a reader is open): nothing was sent and nothing broke.
            return null;
        }

        if (phase == ErrorPhase.Commit)
        {
            // COMMIT was written; whatever the client failed on afterwards (broken socket, timeout, a protocol error while
            // reading the answer), the server may have committed: the outcome is unknown.
            return new CommitOutcomeUnknownException(Message(name, "the connection broke or failed during COMMIT; the transaction may or may not have been applied", npgsql), npgsql);
        }

        if (phase == ErrorPhase.Acquire && IsNoSuitableHost(npgsql, out bool transient))
        {
            // Multi-host: every host is down, or none is in the wanted role yet (a standby being promoted). Transient unless
            // a host refused us for a reason another attempt cannot fix (authentication, unknown database, certificate).
            return new ConnectionFailureException(Message(name, transient ? "no host accepted a connection in the wanted role (all down, or a failover in progress)" : "no host accepted the connection", npgsql), npgsql, transient, FirstSqlState(npgsql));
        }

        if (!npgsql.IsTransient)
        {
            // Not an I/O, socket or timeout failure (e.g. "No password has been provided", an untrusted certificate):
            // running the unit again cannot help, and nothing was sent to the server.
            return phase == ErrorPhase.Acquire
                ? new ConnectionFailureException(Message(name, "could not connect to PostgreSQL", npgsql), npgsql, isTransient: false)
                : new DbCoreException(Message(name, "the PostgreSQL client reported an error", npgsql), npgsql, isTransient: false);
        }

        if (npgsql.InnerException is TimeoutException)
        {
            if (phase == ErrorPhase.Acquire)
            {
                return IsPoolExhausted(npgsql, engine)
                    ? new PoolExhaustedException(PoolExhaustedMessage(name, engine, npgsql), npgsql)
                    : new ConnectionFailureException(ConnectTimeoutMessage(name, engine, npgsql), npgsql, isTransient: true);
            }

            return new CommandTimeoutException(Message(name, "the command did not finish within the command timeout (CommandTimeoutSeconds); it is not retried", npgsql), npgsql);
        }

        return new ConnectionFailureException(Message(name, phase == ErrorPhase.Acquire ? "could not connect to PostgreSQL" : "the connection to PostgreSQL broke", npgsql), npgsql, isTransient: true);
    }

    /// <summary>
    /// Npgsql's multi-host errors: "No suitable host was found." (no host in the wanted state, nothing tried) and "Unable
    /// to connect to a suitable host" with an <see cref="AggregateException"/> of the per-host errors.
    /// </summary>
    private static bool IsNoSuitableHost(NpgsqlException npgsql, out bool transient)
    {
        transient = true;
        if (npgsql.InnerException is AggregateException hosts)
        {
            foreach (Exception host in hosts.InnerExceptions)
            {
                transient &= IsTransientConnectFailure(host);
            }

            return true;
        }

        return npgsql.InnerException is null && npgsql.Message.StartsWith("No suitable host", StringComparison.Ordinal);
    }

    /// <summary>Whether one host's connect failure may go away by itself (down, restarting, full), not a configuration error.</summary>
    private static bool IsTransientConnectFailure(Exception exception)
        => exception switch
        {
            PostgresException pg => FromPostgres(pg, ErrorPhase.Acquire, "") is { IsTransient: true },
            NpgsqlException npgsql => npgsql.IsTransient || (IsNoSuitableHost(npgsql, out bool transient) && transient),
            IOException or SocketException or TimeoutException => true,
            _ => false,
        };

    private static string? FirstSqlState(NpgsqlException npgsql)
    {
        if (npgsql.InnerException is AggregateException hosts)
        {
            foreach (Exception host in hosts.InnerExceptions)
            {
                if (host is PostgresException pg)
                {
                    return pg.SqlState;
                }
            }
        }

        return null;
    }

    /// <summary>idle_in_transaction_session_timeout ended the connection (not in Npgsql's PostgresErrorCodes).</summary>
    private const string IdleInTransactionSessionTimeout = "25P03";

    /// <summary>The whole message text of the error PgBouncer sends when a client waited query_wait_timeout for a server connection.</summary>
    private const string PgBouncerQueryWaitTimeout = "query_wait_timeout";

    /// <summary>The whole message text of the error PgBouncer (1.18) sends when a statement ran longer than its query_timeout.</summary>
    private const string PgBouncerQueryTimeout = "query timeout";

    /// <summary>The server function (plancache.c) that raises 0A000 when a cached plan's result type no longer matches the schema.</summary>
    private const string RevalidateCachedQueryRoutine = "RevalidateCachedQuery";

    /// <summary>The server function that raises lock_timeout's 55P03 (postgres.c); NOWAIT's 55P03 comes from the lock's own code.</summary>
    private const string LockTimeoutRoutine = "ProcessInterrupts";

    /// <summary>
    /// Npgsql reports both a full pool and a connect timeout as a timeout. The pool is exhausted when every connection
    /// DbCore handed out is still in use, or when Npgsql says so.
    /// </summary>
    private static bool IsPoolExhausted(NpgsqlException npgsql, DatabaseEngine? engine)
    {
        if (npgsql.Message.Contains("exhausted", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return engine is null || engine.GetStatistics().InUse >= engine.Options.Pool.MaxSize;
    }

    /// <summary>No slot of DbCore's own pool became free within the acquire timeout (see <see cref="ConnectionSlots"/>).</summary>
    public static PoolExhaustedException PoolExhausted(DatabaseEngine engine)
        => new(PoolExhaustedMessage(engine.Name, engine, null), new TimeoutException("No pooled connection became free within the acquire timeout."));

    private static string PoolExhaustedMessage(string name, DatabaseEngine? engine, NpgsqlException? npgsql)
    {
        if (engine is null)
        {
            return Message(name, "no connection became free within the acquire timeout (the pool is exhausted)", npgsql);
        }

        PoolOptions pool = engine.Options.Pool;
        return Message(
            name,
            string.Create(CultureInfo.InvariantCulture, $"the connection pool is exhausted: all {pool.MaxSize} connections (Pool:Size {pool.Size} + Pool:MaxOverflow {pool.MaxOverflow}) stayed in use for the acquire timeout of {pool.AcquireTimeout.TotalSeconds:0.###} s. Return sessions sooner (dispose them), or raise Pool:MaxOverflow or Pool:AcquireTimeoutSeconds; not retried"),
            null);
    }

    private static string ConnectTimeoutMessage(string name, DatabaseEngine? engine, NpgsqlException npgsql)
    {
        string wait = engine is null ? "the acquire timeout" : string.Create(CultureInfo.InvariantCulture, $"the acquire timeout of {engine.Options.Pool.AcquireTimeout.TotalSeconds:0.###} s");
        return Message(name, $"the server did not accept a connection within {wait}", npgsql);
    }

    private static DbCoreException FromSqlite(SqliteException sqlite, ErrorPhase phase, string name)
    {
        int code = sqlite.SqliteErrorCode;
        int extended = sqlite.SqliteExtendedErrorCode;
        string state = extended.ToString(CultureInfo.InvariantCulture);
        string message = Message(name, sqlite.Message, null);
        switch (extended)
        {
            case 2067: // SQLITE_CONSTRAINT_UNIQUE: "UNIQUE constraint failed: table.column"
            case 1555: // SQLITE_CONSTRAINT_PRIMARYKEY
                return new UniqueViolationException(message, sqlite, state, tableName: SqliteTable(sqlite.Message));
            case 787: // SQLITE_CONSTRAINT_FOREIGNKEY: SQLite names neither constraint nor table
                return new ForeignKeyViolationException(message, sqlite, state);
            case 1299: // SQLITE_CONSTRAINT_NOTNULL: "NOT NULL constraint failed: table.column"
                return new NotNullViolationException(message, sqlite, state, tableName: SqliteTable(sqlite.Message));
            case 275: // SQLITE_CONSTRAINT_CHECK: "CHECK constraint failed: name-or-expression"
                return new CheckViolationException(message, sqlite, state, constraintName: SqliteDetail(sqlite.Message));
            case SqliteBusySnapshot:
                // Not busy: this connection's own read (an open reader, typically a streamed query on the read path) holds
                // a WAL snapshot older than another connection's commit, and SQLite cannot make an old snapshot a writer.
                // Waiting cannot help while that reader is open, and the reader waits for this write.
                return new DbCoreException(Message(name, "SQLite cannot begin the write on this connection because the session's own open reader (a streamed query or a data reader not yet disposed, which ran before the session's first write, outside its transaction) holds a snapshot older than another connection's commit (SQLITE_BUSY_SNAPSHOT); waiting cannot help. Read the rows to the end (or into a list) before writing, or begin the transaction before reading (session.Transaction, or ExecuteAsync, which begins it when it opens); not retried", null), sqlite, false, state);
        }

        switch (code)
        {
            case 5: // SQLITE_BUSY
            case 6: // SQLITE_LOCKED
                // A COMMIT that returns BUSY did not commit, so this is safe to retry in every phase.
                return new DatabaseBusyException(message, sqlite, state);
            case 10: // SQLITE_IOERR
                return phase == ErrorPhase.Commit
                    ? new CommitOutcomeUnknownException(Message(name, "an I/O error happened during COMMIT; the transaction may or may not have been applied", sqlite), sqlite, state)
                    : new DbCoreException(message, sqlite, false, state);
            case 14: // SQLITE_CANTOPEN
                return new ConnectionFailureException(message, sqlite, isTransient: false, state);
        }

        return new DbCoreException(message, sqlite, false, state);
    }

    /// <summary>SQLITE_BUSY_SNAPSHOT: a read snapshot older than the last commit cannot become a write transaction.</summary>
    internal const int SqliteBusySnapshot = 517;

    /// <summary>The text after "constraint failed: " in a SQLite message (up to the closing quote), or null.</summary>
    private static string? SqliteDetail(string message)
    {
        const string marker = "constraint failed: ";
        int start = message.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        start += marker.Length;
        int end = message.IndexOf('\'', start);
        string detail = (end < 0 ? message[start..] : message[start..end]).Trim();
        return detail.Length == 0 ? null : detail;
    }

    /// <summary>"table.column" (first one when several) -> "table".</summary>
    private static string? SqliteTable(string message)
    {
        string? detail = SqliteDetail(message);
        int dot = detail?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        return dot > 0 ? detail![..dot] : null;
    }

    private static string Describe(string? constraint, string? table)
        => (constraint, table) switch
        {
            (null, null) => "",
            (null, _) => $", table {table}",
            (_, null) => $", constraint {constraint}",
            _ => $", constraint {constraint} on table {table}",
        };

    private static string Message(string name, string what, Exception? provider)
    {
        string text = provider is null ? $"{name}: {what}." : $"{name}: {what}. {provider.Message}";
        return Redaction.RedactText(text);
    }
}
