using System;

namespace DbCore.Errors;

/// <summary>
/// Tells a COMMIT that the work sent itself (<c>session.Transaction.CommitAsync()</c>, or a library such as EF Core
/// committing the session's transaction) from an ordinary statement, so a connection lost during that COMMIT is an
/// unknown outcome and the unit is never run again. The provider exception carries no phase, so the frames of the
/// provider's commit method on its stack trace decide; this runs on the failure path only.
/// </summary>
internal static class CommitFrames
{
    private const int MaxDepth = 8;

    private static readonly string[] CommitMethods =
    [
        "Npgsql.NpgsqlTransaction.Commit",
        "Microsoft.Data.Sqlite.SqliteTransaction.Commit",
    ];

    public static bool IsProviderCommit(Exception exception)
    {
        Exception? current = exception;
        for (int depth = 0; current is not null && depth < MaxDepth; depth++, current = current.InnerException)
        {
            if (current.StackTrace is { } trace)
            {
                foreach (string method in CommitMethods)
                {
                    if (trace.Contains(method, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
