namespace DbCore;

/// <summary>What <c>VerifyQueriesAsync</c> does with the query snapshot (<c>dbcore.queries.json</c>).</summary>
public enum QuerySnapshotMode
{
    /// <summary>Write the snapshot when its content changed (a re-run that finds nothing new leaves the file untouched).</summary>
    Write = 0,

    /// <summary>Leave the file alone and fail (a <see cref="QueryVerificationException"/>) when it is not what a write would produce: for CI.</summary>
    Check = 1,
}

/// <summary>
/// Options of <c>VerifyQueriesAsync</c>: where the query snapshot is, and whether to write or check it. The snapshot records
/// each query's described shape so the analyzer can check <c>[Query]</c> methods without a database (docs/queries.md,
/// "Checked queries").
/// </summary>
public sealed class QueryVerificationOptions
{
    /// <summary>
    /// The snapshot file, normally <c>dbcore.queries.json</c> at the project root (relative paths are resolved against the
    /// current directory); <see langword="null"/> to verify only. Entries of other sessions in the file are kept.
    /// </summary>
    public string? SnapshotPath { get; set; }

    /// <summary>Write the snapshot (the default) or check that it is current.</summary>
    public QuerySnapshotMode SnapshotMode { get; set; }
}
