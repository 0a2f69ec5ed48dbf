using System;
using System.ComponentModel;
using System.Data.Common;
using DbCore.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DbCore;

/// <content>
/// The commands of generated query methods: kept for the next call instead of built and dropped per call (on SQLite with
/// the connection, on PostgreSQL in the calling method's per-thread slot).
/// </content>
public abstract partial class DbSession
{
    /// <summary>
    /// Used by generated SQLite query methods: like <see cref="CreateCommand"/>, but on a SQLite file the connection keeps
    /// the command, and its statement stays prepared for the next call with the same SQL in any session on that connection
    /// (connections stay open between sessions). The command comes with no parameters; do not dispose it.
    /// </summary>
    /// <param name="sql">The command text (the generated method's constant).</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected SqliteCommand CreateReusableCommand(string sql)
    {
        OpenFor(sql);
        if (_connection is ReusableSqliteConnection reusable)
        {
            return reusable.ReusedCommand(sql, (SqliteTransaction?)_transaction);
        }

        // In-memory, Pooling=False: the session's own connection keeps the command for the session (and closing it at the
        // session's end disposes it).
        if (_connection is SessionSqliteConnection own)
        {
            return own.ReusedCommand(sql, (SqliteTransaction?)_transaction);
        }

        // Not DbCore's connection: a command per call, disposed when the connection closes at the session's end.
        SqliteCommand command = ((SqliteConnection)_connection!).CreateCommand();
        command.Transaction = (SqliteTransaction?)_transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// Used by generated PostgreSQL query methods: like <see cref="CreateCommand"/>, but the command is taken from
    /// <paramref name="slot"/>, the calling method's per-thread field, when a call on this thread left one there (with its
    /// parameters, whose type resolution Npgsql keeps), and is otherwise new. The slot is emptied, so the command is this
    /// call's alone until <see cref="ReturnCommand"/> puts it back after a call that succeeded; a call that failed drops it.
    /// Npgsql supports a command that runs on one connection, then on another (its preparation is per connector and redone
    /// there). Do not dispose it.
    /// </summary>
    /// <param name="slot">The generated method's <c>[ThreadStatic]</c> field.</param>
    /// <param name="sql">The command text (the generated method's constant; the same for every call with this slot).</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected NpgsqlCommand RentCommand(ref NpgsqlCommand? slot, string sql) => RentNpgsqlCommand(ref slot, sql, sql);

    /// <summary>
    /// Used by generated query methods whose provider is chosen at run time (<c>Auto</c>): on PostgreSQL what
    /// <see cref="RentCommand(ref NpgsqlCommand?, string)"/> does, with <paramref name="postgresSql"/> as the command text;
    /// on SQLite what <see cref="CreateReusableCommand"/> does (the connection keeps the command, the slot stays unused).
    /// </summary>
    /// <param name="slot">The generated method's <c>[ThreadStatic]</c> field (PostgreSQL only).</param>
    /// <param name="sql">The statement as written, with <c>@name</c> placeholders (SQLite's command text, and what the session classifies).</param>
    /// <param name="postgresSql">The command text on PostgreSQL: the statement with positional <c>$n</c> placeholders, or <paramref name="sql"/>.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected DbCommand RentCommand(ref NpgsqlCommand? slot, string sql, string postgresSql)
    {
        EnsureOpen();
        return _connection is NpgsqlConnection ? RentNpgsqlCommand(ref slot, sql, postgresSql) : CreateReusableCommand(sql);
    }

    private NpgsqlCommand RentNpgsqlCommand(ref NpgsqlCommand? slot, string sql, string commandText)
    {
        OpenFor(sql);
        NpgsqlCommand? command = slot;
        if (command is null)
        {
            command = new NpgsqlCommand(commandText);
        }
        else
        {
            slot = null;
        }

        command.Connection = (NpgsqlConnection)_connection!;
        command.Transaction = (NpgsqlTransaction?)_transaction;
        _queryCalls = 1; // until ReturnCommand: a dispose from another thread waits for the call (IsRunningCommand)
        return command;
    }

    /// <summary>A query method's call ended (returned or failed): a dispose no longer waits for it.</summary>
    internal void EndQueryCall() => _queryCalls = 0;

    /// <summary>
    /// Puts a command of RentCommand back into <paramref name="slot"/> after a call that succeeded (its reader is closed),
    /// detached from everything of this session: its connection and transaction, and the physical connection its statement
    /// was prepared on, if Npgsql's auto-preparation prepared it (setting the command text resets that; otherwise a kept
    /// command would keep that connector and its data source alive, skip auto-preparation once its statement was evicted
    /// there, and bind a statement a schema change invalidated once more). Not kept with <c>Multiplexing=true</c>, where
    /// Npgsql keeps the connector in the command's completion source with no way to clear it. The generated code clears
    /// parameter values that hold references first.
    /// </summary>
    /// <param name="slot">The generated method's <c>[ThreadStatic]</c> field, on the thread the call ends on.</param>
    /// <param name="command">The command the call rented; a SQLite command (of an <c>Auto</c> method) stays with its connection.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected void ReturnCommand(ref NpgsqlCommand? slot, DbCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        _queryCalls = 0;
        if (command is NpgsqlCommand npgsql && !_engine.IsMultiplexing)
        {
            npgsql.Connection = null;
            npgsql.CommandText = npgsql.CommandText;
            slot = npgsql;
        }
    }
}
