using System.Data.Common;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;

namespace DbCore;

/// <summary>
/// Makes a session's transaction read-only. PostgreSQL: <c>SET TRANSACTION READ ONLY</c>, sent together with the BEGIN
/// (one round trip when the session opens) and scoped to the transaction, so nothing leaks to the next user of the pooled
/// connection, through PgBouncer in transaction mode too. SQLite has no read-only transactions: <c>PRAGMA query_only</c>
/// is switched on for the session and off again before the connection goes back to the pool.
/// </summary>
internal static class ReadOnlyTransaction
{
    private const string PostgresSql = "SET TRANSACTION READ ONLY";
    private const string SqliteOn = "PRAGMA query_only = ON";
    private const string SqliteOff = "PRAGMA query_only = OFF";

    public static async ValueTask BeginAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        DbCommand command = Create(connection, transaction);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public static void Begin(DbConnection connection, DbTransaction transaction)
    {
        using DbCommand command = Create(connection, transaction);
        command.ExecuteNonQuery();
    }

    /// <summary>SQLite only: switches <c>query_only</c> off again; a handle that cannot be reset is not pooled again.</summary>
    public static void End(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite || sqlite.State != System.Data.ConnectionState.Open)
        {
            return;
        }

        try
        {
            using SqliteCommand command = sqlite.CreateCommand();
            command.CommandText = SqliteOff;
            command.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            SqliteConnection.ClearPool(sqlite);
        }
    }

    private static DbCommand Create(DbConnection connection, DbTransaction transaction)
    {
        DbCommand command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = connection is SqliteConnection ? SqliteOn : PostgresSql;
        return command;
    }
}
