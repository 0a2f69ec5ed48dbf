using System;
using System.Runtime.CompilerServices;
using System.Threading;
using Npgsql;

namespace DbCore;

/// <summary>
/// Sees whether PostgreSQL cancelled a COMMIT's wait for a synchronous standby. With <c>synchronous_commit</c> on and a
/// synchronous standby that does not answer (down, or cut off by the network), COMMIT waits for it. When that wait is
/// cancelled (Npgsql's command timeout sends a cancel request, or an operator runs <c>pg_cancel_backend</c>; not
/// <c>statement_timeout</c>, which PostgreSQL disables before it commits), the server does not fail the COMMIT: the transaction is already committed locally, so it answers
/// COMMIT with success and a WARNING ("canceling wait for synchronous replication due to user request"; DETAIL: "The
/// transaction has already committed locally, but might not have been replicated to the standby."). Npgsql hands that warning
/// only to <see cref="NpgsqlConnection.Notice"/> and reports success. A failover to the standby then loses a transaction the
/// caller was told is committed, which is what synchronous replication exists to prevent.
/// </summary>
/// <remarks>
/// The warning is recognised by its <see cref="PostgresNotice.Routine"/> (the server function that raised it), which is not
/// localized, unlike its text. The handler is one static delegate, so subscribing for a COMMIT allocates nothing; a notice
/// marks its connection in a weak table and bumps a counter, and a COMMIT looks its connection up only when the counter moved
/// while it ran (in practice: never, unless a standby is missing).
/// </remarks>
internal readonly struct SynchronousReplicationWatch : IDisposable
{
    /// <summary>The PostgreSQL function (syncrep.c) that raises the warning when the wait is cancelled.</summary>
    internal const string WaitRoutine = "SyncRepWaitForLSN";

    /// <summary>The warning's SQLSTATE (warning, no subclass): <see cref="DbCoreException.SqlState"/> of the exception DbCore throws.</summary>
    internal const string CancelledSqlState = "01000";

    private static readonly NoticeEventHandler s_onNotice = OnNotice;
    private static readonly ConditionalWeakTable<NpgsqlConnection, object> s_cancelled = new();
    private static readonly object s_marker = new();
    private static int s_notices;

    private readonly NpgsqlConnection _connection;
    private readonly int _noticesBefore;

    private SynchronousReplicationWatch(NpgsqlConnection connection)
    {
        _connection = connection;
        _noticesBefore = Volatile.Read(ref s_notices);
        connection.Notice += s_onNotice;
    }

    /// <summary>Starts watching <paramref name="connection"/>; call before the COMMIT (or the autocommit statement) is sent.</summary>
    public static SynchronousReplicationWatch Start(NpgsqlConnection connection) => new(connection);

    /// <summary>
    /// Whether the server cancelled this connection's wait for a synchronous standby since <see cref="Start"/>: the statement
    /// returned success, but the transaction is committed on this server only. Call once, after the statement returned.
    /// </summary>
    public bool WaitWasCancelled() => Volatile.Read(ref s_notices) != _noticesBefore && s_cancelled.Remove(_connection);

    /// <summary>Stops watching.</summary>
    public void Dispose() => _connection.Notice -= s_onNotice;

    private static void OnNotice(object sender, NpgsqlNoticeEventArgs e)
    {
        if (e.Notice.Routine == WaitRoutine && sender is NpgsqlConnection connection)
        {
            // Marked before the counter moves: a COMMIT that sees the counter moved finds its mark (the event is raised while
            // Npgsql reads the COMMIT's answer, before the COMMIT returns).
            s_cancelled.AddOrUpdate(connection, s_marker);
            Interlocked.Increment(ref s_notices);
        }
    }
}
