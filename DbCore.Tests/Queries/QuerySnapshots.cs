using System.Reflection;

namespace DbCore.Tests.Queries;

/// <summary>
/// The one-command refresh of the committed query snapshots: tests verify with <see cref="QuerySnapshotMode.Check"/> (and fail
/// when a snapshot is stale: the CI check), and with <c>DBCORE_UPDATE_SNAPSHOTS=1</c> they write the files instead, as
/// <c>DBCORE_UPDATE_BASELINES=1</c> does for the generator baselines.
/// </summary>
internal static class QuerySnapshots
{
    /// <summary>Whether this run rewrites the snapshots (<c>DBCORE_UPDATE_SNAPSHOTS=1</c>).</summary>
    public static bool Updating => Environment.GetEnvironmentVariable("DBCORE_UPDATE_SNAPSHOTS") == "1";

    /// <summary>The repository root (the parent of DbCore.Tests, recorded at build time).</summary>
    public static string RepositoryRoot { get; } = Path.GetDirectoryName(
        typeof(QuerySnapshots).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "DbCoreTestsDirectory").Value!)!;

    /// <summary>Options that check (or, when <see cref="Updating"/>, write) the snapshot of <c>samples/{sample}</c>.</summary>
    public static QueryVerificationOptions ForSample(string sample) => new()
    {
        SnapshotPath = Path.Combine(RepositoryRoot, "samples", sample, "dbcore.queries.json"),
        SnapshotMode = Updating ? QuerySnapshotMode.Write : QuerySnapshotMode.Check,
    };
}
