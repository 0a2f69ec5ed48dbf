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
    private const string Sql = "SELECT 1;COMMIT";

    public static async ValueTask CommitAsync(NpgsqlConnection connection)
    {
        // No command.Transaction: Npgsql runs the command in the connection's transaction anyway, and refuses a completed
        // one. When the work already committed through the raw transaction, this COMMIT finds none and is a no-op.
        NpgsqlCommand command = connection.CreateCommand();
        await using (command.ConfigureAwait(false))
        {
            command.CommandText = Sql;
            command.CommandTimeout = connection.CommandTimeout;

            // Not cancellable: once COMMIT is on the wire, cancelling would only make a known outcome unknown.
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
