using System;
using System.ComponentModel;
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

        // Not kept between sessions (in-memory, Pooling=False): closing the connection at the session's end disposes it.
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
    protected NpgsqlCommand RentCommand(ref NpgsqlCommand? slot, string sql)
    {
        OpenFor(sql);
        NpgsqlCommand? command = slot;
        if (command is null)
        {
            command = new NpgsqlCommand(sql);
        }
        else
        {
            slot = null;
        }

        command.Connection = (NpgsqlConnection)_connection!;
        command.Transaction = (NpgsqlTransaction?)_transaction;
        return command;
    }

    /// <summary>
    /// Puts a command of <see cref="RentCommand"/> back into <paramref name="slot"/> after a call that succeeded (its reader is
    /// closed), detached from the session's connection and transaction so that the slot holds neither. The generated code
    /// clears parameter values that hold references first.
    /// </summary>
    /// <param name="slot">The generated method's <c>[ThreadStatic]</c> field, on the thread the call ends on.</param>
    /// <param name="command">The command the call rented.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    protected static void ReturnCommand(ref NpgsqlCommand? slot, NpgsqlCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Connection = null;
        slot = command;
    }
}
