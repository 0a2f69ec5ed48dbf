using System;
using System.IO;
using System.Net.Sockets;
using DbCore.Internal;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore.Errors;

/// <summary>Turns provider exceptions into the <see cref="DbCoreException"/> hierarchy, deciding transience per phase.</summary>
internal static class ErrorTranslator
{
    /// <summary>The translated exception, or <see langword="null"/> when <paramref name="exception"/> is no provider error.</summary>
    public static DbCoreException? Translate(Exception exception, ErrorPhase phase, string name)
    {
        switch (exception)
        {
            case DbCoreException:
                return null;
            case PostgresException pg:
                return FromPostgres(pg, phase, name);
            case NpgsqlException npgsql:
                return FromNpgsql(npgsql, phase, name);
            case SqliteException sqlite:
                return FromSqlite(sqlite, phase, name);
            case IOException or SocketException when phase == ErrorPhase.Commit:
                return new CommitOutcomeUnknownException(Message(name, "the connection broke during COMMIT; the transaction may or may not have been applied", exception), exception);
            default:
                return null;
        }
    }

    private static DbCoreException FromPostgres(PostgresException pg, ErrorPhase phase, string name)
    {
        string state = pg.SqlState;
        string message = Message(name, $"{pg.MessageText} (SQLSTATE {state})", null);
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
            case PostgresErrorCodes.QueryCanceled:
                return new CommandTimeoutException(message, pg, state);
            case PostgresErrorCodes.AdminShutdown:
            case PostgresErrorCodes.CrashShutdown:
            case PostgresErrorCodes.CannotConnectNow:
                return phase == ErrorPhase.Commit
                    ? new CommitOutcomeUnknownException(Message(name, $"the server shut down during COMMIT (SQLSTATE {state}); the transaction may or may not have been applied", null), pg, state)
                    : new ConnectionFailureException(message, pg, isTransient: true, state);
        }

        if (state.StartsWith("08", StringComparison.Ordinal))
        {
            return phase == ErrorPhase.Commit
                ? new CommitOutcomeUnknownException(Message(name, $"the connection failed during COMMIT (SQLSTATE {state}); the transaction may or may not have been applied", null), pg, state)
                : new ConnectionFailureException(message, pg, isTransient: true, state);
        }

        return new DbCoreException(message, pg, false, state, pg.ConstraintName, pg.TableName);
    }

    private static DbCoreException FromNpgsql(NpgsqlException npgsql, ErrorPhase phase, string name)
    {
        if (npgsql.InnerException is TimeoutException)
        {
            return phase == ErrorPhase.Acquire
                ? new PoolExhaustedException(Message(name, "no connection became free within the acquire timeout (the pool is exhausted or the server does not answer)", npgsql), npgsql)
                : new CommandTimeoutException(Message(name, "the command did not finish within the command timeout", npgsql), npgsql);
        }

        if (phase == ErrorPhase.Commit)
        {
            return new CommitOutcomeUnknownException(Message(name, "the connection broke during COMMIT; the transaction may or may not have been applied", npgsql), npgsql);
        }

        return new ConnectionFailureException(Message(name, "the connection to PostgreSQL failed", npgsql), npgsql, isTransient: true);
    }

    private static DbCoreException FromSqlite(SqliteException sqlite, ErrorPhase phase, string name)
    {
        int code = sqlite.SqliteErrorCode;
        int extended = sqlite.SqliteExtendedErrorCode;
        string state = extended.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string message = Message(name, sqlite.Message, null);
        switch (extended)
        {
            case 2067: // SQLITE_CONSTRAINT_UNIQUE
            case 1555: // SQLITE_CONSTRAINT_PRIMARYKEY
                return new UniqueViolationException(message, sqlite, state);
            case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
                return new ForeignKeyViolationException(message, sqlite, state);
            case 1299: // SQLITE_CONSTRAINT_NOTNULL
                return new NotNullViolationException(message, sqlite, state);
            case 275: // SQLITE_CONSTRAINT_CHECK
                return new CheckViolationException(message, sqlite, state);
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

    private static string Message(string name, string what, Exception? provider)
    {
        string text = provider is null ? $"{name}: {what}." : $"{name}: {what}. {provider.Message}";
        return Redaction.RedactText(text);
    }
}
