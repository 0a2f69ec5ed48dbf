using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace DbCore;

/// <summary>
/// PostgreSQL answers COMMIT of an aborted transaction (a statement failed and the work went on) with the ROLLBACK command
/// tag and no error, and Npgsql does not check the tag. DbCore sends <c>SELECT 1</c> in front of the COMMIT, in the same
/// round trip: in an aborted transaction the server rejects it with 25P02 and skips the COMMIT (the rest of the pipeline is
/// discarded up to the Sync), so an aborted transaction can never be reported as committed.
/// </summary>
/// <remarks>
/// One extra statement is parsed and executed by the server, no extra round trip. The COMMIT is sent as a command, so
/// Npgsql's <see cref="NpgsqlTransaction"/> sees the transaction end from the server's ReadyForQuery status; disposing it
/// afterwards does nothing.
/// </remarks>
internal static class GuardedCommit
{
    public static async ValueTask CommitAsync(NpgsqlConnection connection)
    {
        // A batch, not "SELECT 1;COMMIT" as one command: it works with Npgsql.EnableSqlRewriting off too, and keeps the
        // one-Sync pipeline (an error in the first statement skips the second). No batch Transaction: Npgsql runs it in the
        // connection's transaction, and when the work already committed through the raw transaction this COMMIT finds
        // none and is a no-op (a warning).
        NpgsqlBatch batch = connection.CreateBatch();
        await using (batch.ConfigureAwait(false))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT 1"));
            batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            batch.Timeout = connection.CommandTimeout;

            // Not cancellable: once COMMIT is on the wire, cancelling would only make a known outcome unknown.
            await batch.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
