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

/// <summary>
/// The SQL of verified commits. PostgreSQL keeps the commit status of recent transactions: the unit of work reads its
/// transaction id (<c>txid_current()</c>) just before COMMIT, and after a broken COMMIT a new connection asks
/// <c>txid_status(id)</c>: <c>committed</c>, <c>aborted</c>, <c>in progress</c>, or null when too old to tell.
/// No table and no DDL are needed.
/// </summary>
internal static class CommitVerifier
{
    /// <summary>Tries to reach the server for the status even when the retry policy allows a single attempt.</summary>
    public const int MinimumTries = 5;

    public static async ValueTask<long> ReadTransactionIdAsync(DbSession session, CancellationToken cancellationToken)
    {
        DbCommand command = session.CreateCommand("SELECT txid_current()");
        await using (command.ConfigureAwait(false))
        {
            object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }
    }

    public static async ValueTask<string> ReadStatusAsync(DbSession session, long transactionId, CancellationToken cancellationToken)
    {
        DbCommand command = session.CreateCommand(string.Create(CultureInfo.InvariantCulture, $"SELECT txid_status({transactionId})"));
        await using (command.ConfigureAwait(false))
        {
            object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return value as string ?? "too old to tell";
        }
    }

    /// <summary>The connection broke during COMMIT, and the server says the transaction was not applied: safe to retry.</summary>
    public static ConnectionFailureException NotApplied(string name, CommitOutcomeUnknownException unknown)
        => new(
            $"{name}: the connection broke during COMMIT; verified after reconnecting that the transaction was not applied. {unknown.Message}",
            unknown.InnerException ?? unknown,
            isTransient: true,
            unknown.SqlState);
}
