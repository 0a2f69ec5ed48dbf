using System;
using System.Collections.Generic;
using System.Data;
using System.Runtime.CompilerServices;
using System.Threading;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace DbCore.Infrastructure;

/// <summary>
/// The open SQLite connections of a file database that sessions hand to one another, and the prepared commands of typed
/// query methods on them.
/// </summary>
/// <remarks>
/// <para>
/// Why: Microsoft.Data.Sqlite pools its native handles, but every <c>new SqliteConnection</c> + <c>Open</c> + <c>Close</c> is
/// a new connection object, and <c>Close</c> disposes every command created on it, so nothing stays prepared: each
/// statement is parsed and planned again (<c>sqlite3_prepare_v2</c>) in every session. Keeping the connection object
/// open keeps its prepared statements, which is what makes a typed query cheaper than the same hand-written ADO.NET.
/// </para>
/// <para>
/// A connection comes back only when it is clean: open and in autocommit mode (no transaction left open, whoever began
/// it); the commands the session created on it are disposed as <c>Close</c> would (with any reader nobody disposed), and
/// a connection that is not clean is closed, as before. After
/// <see cref="MaxUses"/> sessions it is closed and opened anew, which bounds what undisposed commands leave in it.
/// At most <see cref="PoolOptions.MaxSize"/> connections wait here per data source; the rest close into
/// Microsoft.Data.Sqlite's own pool.
/// </para>
/// </remarks>
internal sealed class SqliteConnectionCache : IDisposable
{
    /// <summary>Sessions a connection serves before it is closed and replaced.</summary>
    internal const int MaxUses = 4096;

    private readonly string _connectionString;
    private readonly ReusableSqliteConnection?[] _idle;
    private volatile bool _disposed;

    internal SqliteConnectionCache(string connectionString, int capacity, Action? reuseOff = null)
    {
        _connectionString = connectionString;
        ReuseOff = reuseOff;
        _idle = new ReusableSqliteConnection?[Math.Max(1, capacity)];

        // Microsoft.Data.Sqlite runs these on every Open; a connection kept open gets them again before each next session,
        // so a session that turned foreign keys off does not leave them off for the next one.
        var options = new SqliteConnectionStringBuilder(connectionString);
        string pragmas = (options.ForeignKeys is { } foreignKeys ? $"PRAGMA foreign_keys = {(foreignKeys ? 1 : 0)}; " : string.Empty)
            + (options.RecursiveTriggers ? "PRAGMA recursive_triggers = 1;" : string.Empty);
        ResetPragmas = pragmas.Length == 0 ? null : pragmas.TrimEnd();
    }

    /// <summary>Logs that reuse is off for this process (the provider lacks what the clean-up needs); called once.</summary>
    internal Action? ReuseOff { get; }

    /// <summary>The connection string's PRAGMAs, run again when a connection is handed on; null when it sets none.</summary>
    internal string? ResetPragmas { get; }

    /// <summary>An idle open connection, or a new one opened now.</summary>
    internal ReusableSqliteConnection Open()
    {
        ReusableSqliteConnection?[] idle = _idle;
        for (int i = 0; i < idle.Length; i++)
        {
            ReusableSqliteConnection? connection = idle[i];
            if (connection is not null && ReferenceEquals(Interlocked.CompareExchange(ref idle[i], null, connection), connection))
            {
                connection.Leased = true;
                return connection;
            }
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var opened = new ReusableSqliteConnection(_connectionString, this) { Leased = true };
        try
        {
            opened.Open();
            opened.CountCommits();
        }
        catch
        {
            opened.Retire();
            throw;
        }

        return opened;
    }

    /// <summary>Takes a session's connection back: kept when clean, closed otherwise.</summary>
    internal void Return(ReusableSqliteConnection connection)
    {
        if (_disposed || connection.DoNotKeep || ++connection.Uses >= MaxUses || !TryReset(connection))
        {
            connection.Retire();
            return;
        }

        // From here on a reference the ended session left behind cannot use it (see ReusableSqliteConnection.Leased).
        connection.Leased = false;
        ReusableSqliteConnection?[] idle = _idle;
        for (int i = 0; i < idle.Length; i++)
        {
            if (idle[i] is null && Interlocked.CompareExchange(ref idle[i], connection, null) is null)
            {
                // Dispose may have emptied the slots just before this one was filled.
                if (_disposed && ReferenceEquals(Interlocked.CompareExchange(ref idle[i], null, connection), connection))
                {
                    connection.Retire();
                }

                return;
            }
        }

        connection.Retire();
    }

    /// <summary>
    /// A connection whose clean-up failed in any way (a provider error, a command whose own dispose throws, a list that is
    /// not what this version expects) is closed instead, as it would have been without this cache.
    /// </summary>
    private static bool TryReset(ReusableSqliteConnection connection)
    {
        try
        {
            return connection.TryReset();
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Closes every idle connection; connections still in sessions close when those end.</summary>
    public void Dispose()
    {
        _disposed = true;
        ReusableSqliteConnection?[] idle = _idle;
        for (int i = 0; i < idle.Length; i++)
        {
            Interlocked.Exchange(ref idle[i], null)?.Retire();
        }
    }
}

/// <summary>
/// A SQLite connection that stays open between sessions (see <see cref="SqliteConnectionCache"/>), with the prepared
/// commands of the typed query methods run on it.
/// </summary>
internal sealed class ReusableSqliteConnection : SqliteConnection
{
    /// <summary>False once Microsoft.Data.Sqlite turned out not to have the command list this class cleans up.</summary>
    private static volatile bool s_canReset = true;

    private readonly int _defaultTimeout;
    private CommandShelf _commands;
    private long _commits;
    private long _commitsAtBegin;

    internal ReusableSqliteConnection(string connectionString, SqliteConnectionCache owner)
        : base(connectionString)
    {
        Owner = owner;
        _defaultTimeout = DefaultTimeout;
    }

    internal SqliteConnectionCache Owner { get; }

    /// <summary>Sessions served so far.</summary>
    internal int Uses { get; set; }

    /// <summary>How many typed-query commands this connection keeps prepared.</summary>
    internal int ReusedCommandCount => _commands.Count;

    /// <summary>Whether <see cref="ProviderHooks.OnSqliteConnectionOpened"/> ran on this connection.</summary>
    internal bool HookRan { get; set; }

    /// <summary>Set when the open hook threw on this connection: it is closed at the end of its session, not handed on.</summary>
    internal bool DoNotKeep { get; set; }

    /// <summary>
    /// Whether a session holds the connection. While it waits for the next session, a reference the last one left behind
    /// (<c>session.Connection</c> kept in a field, a <c>DbContext</c> over it) cannot create a command or begin a
    /// transaction on it (<see cref="InvalidOperationException"/>, as a closed connection would), and its
    /// <c>Close</c>/<c>Dispose</c> does nothing: the connection is about to serve another session.
    /// </summary>
    internal bool Leased { get; set; }

    /// <summary>
    /// Whether a transaction was committed on this connection since the last <c>BeginTransaction</c>: by a COMMIT statement
    /// the work sent, say (Microsoft.Data.Sqlite's transaction object cannot see one). SQLite's commit hook counts the
    /// commits of write transactions; a session reads this only on its failure and end-of-unit paths.
    /// </summary>
    internal bool CommittedSinceBegin => _commits != _commitsAtBegin;

    /// <summary>Installs the commit counter behind <see cref="CommittedSinceBegin"/> (once, after the first open).</summary>
    internal void CountCommits()
        => raw.sqlite3_commit_hook(Handle, static state => { ((ReusableSqliteConnection)state)._commits++; return 0; }, this);

    /// <summary>Closes and disposes the connection for good (the cache's own close, whoever holds it).</summary>
    internal void Retire()
    {
        Leased = true;
        if (Handle is { } handle)
        {
            // A transaction a statement began and nobody ended must not reach Microsoft.Data.Sqlite's pool with the handle
            // (its next owner would start inside it, holding the write lock); and the commit hook must not outlive this object.
            if (!SqliteTransactions.InAutocommit(this))
            {
                _ = raw.sqlite3_exec(handle, "ROLLBACK");
            }

            raw.sqlite3_commit_hook(handle, null, null);
        }

        Dispose();
    }

    /// <inheritdoc/>
    public override SqliteCommand CreateCommand()
    {
        ThrowIfNotLeased();
        return base.CreateCommand();
    }

    /// <inheritdoc/>
    public override SqliteTransaction BeginTransaction(IsolationLevel isolationLevel, bool deferred)
    {
        ThrowIfNotLeased();
        SqliteTransaction transaction = base.BeginTransaction(isolationLevel, deferred);
        _commitsAtBegin = _commits;
        return transaction;
    }

    /// <inheritdoc/>
    public override void Close()
    {
        if (Leased)
        {
            // Closing disposes every command of the connection, the kept ones too.
            _commands.Clear();
            base.Close();
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (Leased)
        {
            base.Dispose(disposing);
        }
    }

    private void ThrowIfNotLeased()
    {
        if (!Leased)
        {
            throw new InvalidOperationException("This SQLite connection belonged to a DbCore session that has ended and now waits to serve another session. Use session.Connection (and anything built on it, such as a DbContext) only inside its session.");
        }
    }

    /// <summary>
    /// The command for <paramref name="sql"/> on this connection, created once and kept prepared (its parameters cleared,
    /// its transaction set): the caller must not dispose it.
    /// </summary>
    internal SqliteCommand ReusedCommand(string sql, SqliteTransaction? transaction)
        => _commands.Take(sql, this, transaction);

    /// <summary>
    /// Makes the connection ready for the next session, as <see cref="SqliteConnection.Close"/> would but keeping it open:
    /// disposes the commands the session created (their statements and any reader left open) except DbCore's own. False
    /// when it cannot be handed on: closed, or a transaction still open (begun by SQL, or by someone else's
    /// <c>BeginTransaction</c>).
    /// </summary>
    internal bool TryReset()
    {
        if (!s_canReset || State != ConnectionState.Open || Handle is not { } handle || Transaction is not null)
        {
            return false;
        }

        List<WeakReference<SqliteCommand>> commands;
        try
        {
            commands = CommandsOf(this);
        }
        catch (MissingFieldException)
        {
            if (s_canReset)
            {
                s_canReset = false;
                Owner.ReuseOff?.Invoke();
            }

            return false;
        }

        for (int i = commands.Count - 1; i >= 0; i--)
        {
            if (!commands[i].TryGetTarget(out SqliteCommand? command))
            {
                commands.RemoveAt(i);
            }
            else if (command is ReusedCommand reused)
            {
                if (reused.HasOpenReader)
                {
                    return false;
                }

                // The idle connection must not keep the last call's arguments alive until its SQL runs again.
                reused.Parameters.Clear();
            }
            else
            {
                // Removes itself from the list, as in Close.
                command.Dispose();
            }
        }

        DefaultTimeout = _defaultTimeout;
        if (!SqliteTransactions.InAutocommit(this))
        {
            return false;
        }

        if (Owner.ResetPragmas is { } pragmas)
        {
            ReusedCommand(pragmas, null).ExecuteNonQuery();
        }

        return true;
    }

    /// <summary>The connection's list of the commands created on it, which <see cref="SqliteConnection.Close"/> disposes.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_commands")]
    private static extern ref List<WeakReference<SqliteCommand>> CommandsOf(SqliteConnection connection);
}

/// <summary>A command DbCore keeps on a <see cref="ReusableSqliteConnection"/>: its statement stays prepared.</summary>
internal sealed class ReusedCommand : SqliteCommand
{
    internal ReusedCommand(string sql, SqliteConnection connection, SqliteTransaction? transaction)
        : base(sql, connection, transaction)
    {
    }

    /// <summary>Whether a reader of this command is still open (generated methods always dispose theirs).</summary>
    internal bool HasOpenReader => DataReader is not null;
}

/// <summary>
/// The typed-query commands a SQLite connection keeps, by SQL text (generated code passes its constant, so the reference
/// almost always matches): each taken with its parameters cleared and its transaction set, created once and kept prepared;
/// the oldest is disposed when a new text needs a place. The caller must not dispose a command it takes.
/// </summary>
internal struct CommandShelf
{
    /// <summary>Commands kept per connection.</summary>
    private const int Capacity = 32;

    private ReusedCommand?[]? _commands;
    private int _nextReplaced;

    /// <summary>Forgets every kept command (the connection closed, which disposed them).</summary>
    public void Clear() => this = default;

    /// <summary>How many commands are kept.</summary>
    public readonly int Count => _commands is null ? 0 : Array.IndexOf(_commands, null) is var free and >= 0 ? free : _commands.Length;

    public SqliteCommand Take(string sql, SqliteConnection connection, SqliteTransaction? transaction)
    {
        ReusedCommand?[] commands = _commands ??= new ReusedCommand?[Capacity];
        int free = -1;
        for (int i = 0; i < commands.Length; i++)
        {
            ReusedCommand? command = commands[i];
            if (command is null)
            {
                free = i;
                break;
            }

            if (ReferenceEquals(command.CommandText, sql) || string.Equals(command.CommandText, sql, StringComparison.Ordinal))
            {
                if (command.HasOpenReader)
                {
                    // Generated methods always close their reader; anyone else still reading it gets a command of their
                    // own, not kept (closing the connection disposes it).
                    return new SqliteCommand(sql, connection, transaction) { CommandTimeout = connection.DefaultTimeout };
                }

                command.Parameters.Clear();
                command.Transaction = transaction;
                return command;
            }
        }

        if (free < 0)
        {
            free = _nextReplaced;
            _nextReplaced = (_nextReplaced + 1) % commands.Length;
            commands[free]!.Dispose();
        }

        var created = new ReusedCommand(sql, connection, transaction) { CommandTimeout = connection.DefaultTimeout };
        commands[free] = created;
        return created;
    }
}

/// <summary>
/// A SQLite connection that serves one session only (<c>:memory:</c>, <c>Pooling=False</c>, or the connection cache off):
/// it keeps that session's typed-query commands on a <see cref="CommandShelf"/>, so a method called many times in one unit
/// prepares its statement once and leaves one command behind, not one per call. Closing it at the session's end disposes them.
/// </summary>
internal sealed class SessionSqliteConnection(string connectionString) : SqliteConnection(connectionString)
{
    private CommandShelf _commands;

    /// <summary>How many typed-query commands this connection keeps.</summary>
    internal int ReusedCommandCount => _commands.Count;

    internal SqliteCommand ReusedCommand(string sql, SqliteTransaction? transaction) => _commands.Take(sql, this, transaction);

    /// <summary>Closing disposes every command of the connection, the kept ones too: the next call after a reopen makes new ones.</summary>
    public override void Close()
    {
        _commands.Clear();
        base.Close();
    }
}
