using System;
using System.Data.Common;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace DbCore.Errors;

/// <summary>What a verified commit learned after the connection broke during COMMIT.</summary>
internal enum CommitStatus
{
    Unknown,
    Committed,
    NotApplied,
}

/// <summary>What a verified unit read just before COMMIT: its transaction id and which server (and which run of it) assigned it.</summary>
internal readonly record struct CommitTicket(long TransactionId, string Server)
{
    public bool IsSet => TransactionId != 0;
}

/// <summary>
/// The SQL of verified commits. PostgreSQL keeps the commit status of recent transactions: the unit of work reads its
/// transaction id (<c>txid_current()</c>) just before COMMIT, and after a broken COMMIT a new connection asks
/// <c>txid_status(id)</c>: <c>committed</c>, <c>aborted</c>, <c>in progress</c>, or null when too old to tell.
/// No table and no DDL are needed.
/// </summary>
/// <remarks>
/// Two guards make the answer as durable as an ordinary acknowledged COMMIT, also across a failover (both found by the
/// pg_auto_failover soak, which lost acknowledged transfers without them):
/// <list type="bullet">
/// <item>The answer counts only from the server that assigned the id, in the same run (address, port and postmaster start
/// time are read with the id). A promoted standby, or a server restarted since, may never have seen the transaction and
/// may have given its id to another one; then the outcome stays unknown.</item>
/// <item>"committed" is trusted only once a transaction of the verifier's own that writes WAL
/// (<c>pg_logical_emit_message</c>), begun after the status was read, has committed on that server: with synchronous
/// replication that COMMIT returns only when the standby has the WAL up to it, which includes the verified commit. A transaction that is committed locally but whose wait for the standby was cut
/// (a primary being demoted) therefore does not count as committed.</item>
/// </list>
/// </remarks>
internal static class CommitVerifier
{
    /// <summary>Tries to reach the server for the status even when the retry policy allows a single attempt.</summary>
    public const int MinimumTries = 5;

    /// <summary>The answer came from a different server, or the same one after a restart: the outcome cannot be told.</summary>
    public const string AnotherServer = "asked another server (a failover or a restart since the COMMIT)";

    private const string ServerIdentity =
        "coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '') || '@' || pg_postmaster_start_time()::text";

    public static async ValueTask<CommitTicket> ReadTicketAsync(DbSession session, CancellationToken cancellationToken)
    {
        DbCommand command = session.CreateCommand("SELECT txid_current(), " + ServerIdentity);
        await using (command.ConfigureAwait(false))
        {
            DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return new CommitTicket(reader.GetInt64(0), reader.GetString(1));
            }
        }
    }

    /// <summary>
    /// Reads the status in a transaction of its own and commits it (the durability barrier); the caller's session is open.
    /// Returns <c>committed</c>, <c>aborted</c>, <c>in progress</c>, <see cref="AnotherServer"/>, or "too old to tell".
    /// </summary>
    public static async ValueTask<string> ReadStatusAsync(DbSession session, CommitTicket ticket, CancellationToken cancellationToken)
    {
        session.EnsureTransactionBegun(); // the barrier must be a transaction that commits a WAL record
        string status;
        string server;
        // pg_logical_emit_message(true, ...) writes a transactional WAL record (any user may call it), so the barrier's
        // COMMIT has WAL to wait for: with synchronous replication it returns only once the standby has it.
        DbCommand command = session.CreateCommand(string.Create(CultureInfo.InvariantCulture, $"SELECT txid_status({ticket.TransactionId}), {ServerIdentity}, pg_logical_emit_message(true, 'dbcore.verify', '')"));
        await using (command.ConfigureAwait(false))
        {
            DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                status = reader.IsDBNull(0) ? "too old to tell" : reader.GetString(0);
                server = reader.GetString(1);
            }
        }

        if (!string.Equals(server, ticket.Server, StringComparison.Ordinal))
        {
            return AnotherServer;
        }

        // The barrier: returns once this server (and its synchronous standby, when there is one) has the WAL up to here.
        await session.CommitAsync(cancellationToken).ConfigureAwait(false);
        return status;
    }

    /// <summary>The connection broke during COMMIT, and the server says the transaction was not applied: safe to retry.</summary>
    public static ConnectionFailureException NotApplied(string name, CommitOutcomeUnknownException unknown)
        => new(
            $"{name}: the connection broke during COMMIT; verified after reconnecting that the transaction was not applied. {unknown.Message}",
            unknown.InnerException ?? unknown,
            isTransient: true,
            unknown.SqlState);
}
