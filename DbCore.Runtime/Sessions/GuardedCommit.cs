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
internal static class GuardedCommit
{
    /// <summary>
    /// The savepoint <see cref="DbSession.CommitAsync"/> sets in front of COMMIT: <see cref="NpgsqlTransaction.Save"/>
    /// prepends it to Npgsql's own COMMIT message, so it costs no round trip and no extended-protocol statement. In an aborted
    /// transaction the server refuses it with 25P02; Npgsql treats a failed prepended statement as fatal, throws that error
    /// and closes the connection, so the COMMIT's answer is never taken for a commit (the server rolls the transaction back
    /// either way). <c>CommitGuardTests</c> pins this behaviour of Npgsql. A name that needs no quoting, so Npgsql sends it as is;
    /// a short one, because Npgsql builds the statement's text for every <c>Save</c> (<c>"SAVEPOINT " + name</c>: 56 B a
    /// commit with this name, 80 B with the earlier <c>dbcore_commit_guard</c>).
    /// </summary>
    public const string Savepoint = "dbcore";

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
    /// committed. <c>SELECT 1</c> is sent only when the caller says so (<paramref name="guard"/>: the command's text holds no
    /// statement, comments only), which the server answers even in an aborted transaction. A text that ends the transaction
    /// itself ends it with or without a guard.
    /// The caller sends a text of several statements on its own instead (a batch command takes one).
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<int> ExecuteAndCommitAsync(NpgsqlConnection connection, NpgsqlCommand command, bool guard)
    {
        using var batch = new NpgsqlBatch(connection) { Timeout = command.CommandTimeout };
        var last = new NpgsqlBatchCommand(command.CommandText) { CommandType = command.CommandType };
        batch.BatchCommands.Add(last);
        if (guard)
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

    /// <summary>
    /// Whether <paramref name="exception"/> is one Npgsql throws before it writes anything of a command: its parameter checks
    /// (<c>ProcessParameters</c>: a value its type cannot take, an unknown type) and its SQL rewriting (<c>ProcessRawQuery</c>)
    /// run before the first byte is sent. A protocol error reading an answer is an <see cref="InvalidOperationException"/> or an
    /// <see cref="NpgsqlException"/>, never one of these, so a batch with COMMIT that failed so was never sent. Not
    /// <see cref="OverflowException"/>: Npgsql throws it from <c>RecordsAffected</c> (over <see cref="int.MaxValue"/> rows),
    /// after the COMMIT.
    /// </summary>
    public static bool FailedBeforeSending(Exception exception)
        => exception is InvalidCastException or ArgumentException or NotSupportedException or FormatException;

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
}
