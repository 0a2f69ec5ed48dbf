using System;
using System.Runtime.CompilerServices;
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
/// afterwards does nothing. The command objects are reused (a small lock-free pool): a fresh <see cref="NpgsqlCommand"/>
/// with its parameter and statement lists was most of what DbCore allocated per unit over raw Npgsql's own COMMIT, which
/// reuses a command of the connector. A command is reused only after it completed without an error, with no connection.
/// </remarks>
internal static class GuardedCommit
{
    private const string Sql = "SELECT 1;COMMIT";

    /// <summary>Enough for every connection of a default pool to commit at once; more are created and disposed.</summary>
    private static readonly NpgsqlCommand?[] s_pool = new NpgsqlCommand?[64];

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask CommitAsync(NpgsqlConnection connection)
    {
        // No command.Transaction: Npgsql runs the command in the connection's transaction anyway, and refuses a completed
        // one. When the work already committed through the raw transaction, this COMMIT finds none and is a no-op.
        NpgsqlCommand command = Rent();
        command.Connection = connection;
        command.CommandTimeout = connection.CommandTimeout;
        bool completed = false;
        try
        {
            // Not cancellable: once COMMIT is on the wire, cancelling would only make a known outcome unknown.
            await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            completed = true;
        }
        finally
        {
            Return(command, completed);
        }
    }

    private static NpgsqlCommand Rent()
    {
        NpgsqlCommand?[] pool = s_pool;
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < pool.Length; i++)
        {
            ref NpgsqlCommand? slot = ref pool[(start + i) & (pool.Length - 1)];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } command)
            {
                return command;
            }
        }

        return new NpgsqlCommand(Sql);
    }

    private static void Return(NpgsqlCommand command, bool reusable)
    {
        if (reusable)
        {
            command.Connection = null;
            NpgsqlCommand?[] pool = s_pool;
            int start = Environment.CurrentManagedThreadId;
            for (int i = 0; i < pool.Length; i++)
            {
                ref NpgsqlCommand? slot = ref pool[(start + i) & (pool.Length - 1)];
                if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, command, null) is null)
                {
                    return;
                }
            }
        }

        command.Dispose();
    }
}
