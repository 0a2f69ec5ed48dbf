using System;
using System.Reflection;
using Npgsql;
using Npgsql.Internal;

namespace DbCore;

#pragma warning disable NPG9001 // NpgsqlConnector is Npgsql's experimental API: only read here, behind a fallback.

/// <summary>
/// The transaction status PostgreSQL sent in its last ReadyForQuery message, which Npgsql keeps on the connection's connector
/// (<c>I</c> idle, <c>T</c> in a transaction, <c>E</c> in a failed transaction): the client-side answer to "did an error the
/// work caught abort this transaction?", so the COMMIT guard needs no statement on the server.
/// </summary>
/// <remarks>
/// Npgsql keeps the status internal, so it is read through delegates bound once by reflection (two property getters, no
/// allocation per call). When that binding is not possible (a later Npgsql without these members, an app trimmed without
/// their metadata) the status is unknown and the guard falls back to its SAVEPOINT (<see cref="GuardedCommit.Savepoint"/>).
/// <c>CommitGuardTests</c> pins both paths against a real server.
/// </remarks>
internal static class ServerTransactionStatus
{
    private const byte InFailedTransaction = (byte)'E';

    private static readonly Func<NpgsqlConnection, NpgsqlConnector?>? s_connector;
    private static readonly Func<NpgsqlConnector, byte>? s_status;

    static ServerTransactionStatus()
    {
        try
        {
            PropertyInfo? connector = typeof(NpgsqlConnection).GetProperty("Connector", BindingFlags.Instance | BindingFlags.NonPublic);
            PropertyInfo? status = typeof(NpgsqlConnector).GetProperty("TransactionStatus", BindingFlags.Instance | BindingFlags.NonPublic);
            if (connector?.GetMethod is not { } getConnector || status?.GetMethod is not { } getStatus
                || !status.PropertyType.IsEnum || Enum.GetUnderlyingType(status.PropertyType) != typeof(byte)
                || !Enum.TryParse(status.PropertyType, "InFailedTransactionBlock", out object? failed)
                || Convert.ToByte(failed, System.Globalization.CultureInfo.InvariantCulture) != InFailedTransaction)
            {
                return;
            }

            s_connector = getConnector.CreateDelegate<Func<NpgsqlConnection, NpgsqlConnector?>>();
            s_status = getStatus.CreateDelegate<Func<NpgsqlConnector, byte>>();
        }
        catch (Exception)
        {
            s_connector = null;
            s_status = null;
        }
    }

    /// <summary>Whether the status can be read in this process (tests; false means the SAVEPOINT guard is used).</summary>
    internal static bool IsAvailable => s_status is not null;

    /// <summary>
    /// <see langword="true"/> when the server reported the connection's transaction as failed (every statement but ROLLBACK
    /// would be refused with 25P02, and COMMIT would be answered with ROLLBACK), <see langword="false"/> when not, and
    /// <see langword="null"/> when the status cannot be read.
    /// </summary>
    internal static bool? IsAborted(NpgsqlConnection connection)
    {
        if (s_status is null || s_connector!(connection) is not { } connector)
        {
            return null;
        }

        return s_status(connector) == InFailedTransaction;
    }
}
