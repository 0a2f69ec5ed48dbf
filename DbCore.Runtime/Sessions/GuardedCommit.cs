using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Npgsql;

namespace DbCore;

/// <summary>
/// PostgreSQL answers COMMIT of an aborted transaction (a statement failed and the work went on) with the ROLLBACK command
/// tag and no error, and Npgsql does not check the tag. So DbCore never sends a bare COMMIT: <see cref="DbSession.CommitAsync"/>
/// prepends the <see cref="Savepoint"/> to Npgsql's own COMMIT, and <see cref="ExecuteAndCommitAsync"/> sends the last
/// statement and COMMIT as one batch, the statement being refused in an aborted transaction itself. Either way an aborted
/// transaction fails with 25P02 and is never reported as committed.
/// </summary>
/// <remarks>
/// The batch holding the <c>SELECT 1</c> guard and COMMIT (<see cref="Rent(NpgsqlConnection)"/>) is used only when the work
/// already ended the transaction itself (through the raw transaction or SQL): it has no Transaction, so Npgsql runs it on
/// the connection, and its COMMIT finds no transaction and is a no-op (a warning). It goes as an <see cref="NpgsqlBatch"/>,
/// not as one "SELECT 1;COMMIT" command, so this works with the Npgsql.EnableSqlRewriting switch off too. Batches are reused
/// from a small lock-free pool; one is reused only after it completed without an error.
/// </remarks>
internal static class GuardedCommit
{
    /// <summary>Enough for every connection of a default pool to commit at once; more are created and disposed.</summary>
    private static readonly NpgsqlBatch?[] Pool = new NpgsqlBatch?[64];

    /// <summary>
    /// The savepoint <see cref="DbSession.CommitAsync"/> sets in front of COMMIT: <see cref="NpgsqlTransaction.Save"/>
    /// prepends it to Npgsql's own COMMIT message, so it costs no round trip and no extended-protocol statement. In an aborted
    /// transaction the server refuses it with 25P02; Npgsql treats a failed prepended statement as fatal, throws that error
    /// and closes the connection, so the COMMIT's answer is never taken for a commit (the server rolls the transaction back
    /// either way). <c>CommitGuardTests</c> pins this behaviour of Npgsql. A name that needs no quoting, so Npgsql sends it as is.
    /// </summary>
    public const string Savepoint = "dbcore_commit_guard";

    private const string GuardSql = "SELECT 1";

    private const string CommitSql = "COMMIT";

    /// <summary>
    /// Runs <paramref name="command"/> (its text and parameters, lent to a batch command for the call) followed by COMMIT,
    /// as one batch: one round trip for the last statement and the commit. Returns the rows it affected. If the statement
    /// fails, the server skips the rest of the batch (COMMIT is not run) and the transaction is left aborted.
    /// </summary>
    /// <remarks>
    /// The statement is its own guard: in an aborted transaction the server rejects every statement but the ones that end
    /// it (COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT, PREPARE TRANSACTION) with 25P02, so an aborted transaction is never
    /// committed. <c>SELECT 1</c> is sent only when the command's text holds no statement (comments only), which the server
    /// answers even in an aborted transaction. A text that ends the transaction itself ends it with or without a guard.
    /// The caller sends a text of several statements on its own instead (a batch command takes one).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<int> ExecuteAndCommitAsync(NpgsqlConnection connection, NpgsqlCommand command)
    {
        using var batch = new NpgsqlBatch(connection) { Timeout = command.CommandTimeout };
        var last = new NpgsqlBatchCommand(command.CommandText) { CommandType = command.CommandType };
        batch.BatchCommands.Add(last);
        if (SqlClassifier.CountStatements(command.CommandText) == 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(GuardSql));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand(CommitSql));
        NpgsqlParameter[] parameters = Lend(command.Parameters, last.Parameters);
        try
        {
            // Not cancellable, as CommitAsync: once COMMIT is on the wire, cancelling would only make a known outcome unknown.
            await batch.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            return last.RecordsAffected;
        }
        finally
        {
            last.Parameters.Clear();
            foreach (NpgsqlParameter parameter in parameters)
            {
                command.Parameters.Add(parameter);
            }
        }
    }

    /// <summary>Moves every parameter of <paramref name="from"/> to <paramref name="to"/> (a parameter belongs to one collection at a time).</summary>
    private static NpgsqlParameter[] Lend(NpgsqlParameterCollection from, NpgsqlParameterCollection to)
    {
        if (from.Count == 0)
        {
            return [];
        }

        var parameters = new NpgsqlParameter[from.Count];
        from.CopyTo(parameters, 0);
        from.Clear();
        foreach (NpgsqlParameter parameter in parameters)
        {
            to.Add(parameter);
        }

        return parameters;
    }

    /// <summary>A guard-and-COMMIT batch bound to <paramref name="connection"/>; give it back with <see cref="Return"/>.</summary>
    public static NpgsqlBatch Rent(NpgsqlConnection connection)
    {
        NpgsqlBatch batch = Rent();
        batch.Connection = connection;
        batch.Timeout = connection.CommandTimeout;
        return batch;
    }

    private static NpgsqlBatch Rent()
    {
        int start = Environment.CurrentManagedThreadId;
        for (int i = 0; i < Pool.Length; i++)
        {
            ref NpgsqlBatch? slot = ref Pool[(start + i) & (Pool.Length - 1)];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } batch)
            {
                return batch;
            }
        }

        var created = new NpgsqlBatch();
        created.BatchCommands.Add(new NpgsqlBatchCommand(GuardSql));
        created.BatchCommands.Add(new NpgsqlBatchCommand(CommitSql));
        return created;
    }

    /// <summary>Pools <paramref name="batch"/> again when it completed without an error (<paramref name="reusable"/>), else disposes it.</summary>
    public static void Return(NpgsqlBatch batch, bool reusable)
    {
        if (reusable)
        {
            batch.Connection = null;
            int start = Environment.CurrentManagedThreadId;
            for (int i = 0; i < Pool.Length; i++)
            {
                ref NpgsqlBatch? slot = ref Pool[(start + i) & (Pool.Length - 1)];
                if (Volatile.Read(ref slot) is null && Interlocked.CompareExchange(ref slot, batch, null) is null)
                {
                    return;
                }
            }
        }

        batch.Dispose();
    }
}
