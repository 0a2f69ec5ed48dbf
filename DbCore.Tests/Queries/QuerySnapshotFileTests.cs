using System.Text;

namespace DbCore.Tests.Queries;

/// <summary>
/// VerifyQueriesAsync with a snapshot path: writes dbcore.queries.json deterministically (a re-run is byte-identical, LF, no
/// BOM), keeps other sessions' entries, and in Check mode leaves the file alone and names every stale entry.
/// </summary>
public sealed class QuerySnapshotFileTests : IDisposable
{
    internal const string Schema = TodoSchema.Sqlite + ";\nCREATE TABLE todo_notes (todo_id INTEGER NOT NULL REFERENCES todos (id), note TEXT NOT NULL);";

    /// <summary>QueryAnySession's deliberately wrong methods, on SQLite (see QueryVerificationTests).</summary>
    private static readonly string[] s_wrongOnPurpose = QueryVerificationTests.DeliberatelyWrong(postgres: false);

    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-snapshot-").FullName;

    private string SnapshotPath => Path.Combine(_directory, "dbcore.queries.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<QueryVerificationException> VerifyAsync(QuerySnapshotMode mode)
        => await Assert.ThrowsAsync<QueryVerificationException>(() => QueryAny.VerifyQueriesAgainstSqliteSchemaAsync(Schema, new QueryVerificationOptions { SnapshotPath = SnapshotPath, SnapshotMode = mode }));

    [Fact]
    public async Task A_rerun_writes_the_same_bytes_and_a_check_of_them_passes()
    {
        // The snapshot records what the database describes, so it is written even when some method does not match it.
        QueryVerificationException first = await VerifyAsync(QuerySnapshotMode.Write);
        Assert.Equal(s_wrongOnPurpose, first.Mismatches.Select(m => m.Method).Distinct().Order(StringComparer.Ordinal));
        byte[] written = await File.ReadAllBytesAsync(SnapshotPath);
        Assert.DoesNotContain((byte)'\r', written);
        Assert.NotEqual(0xEF, written[0]); // no BOM
        string text = Encoding.UTF8.GetString(written);
        Assert.StartsWith("{\n  \"version\": 1,\n  \"queries\": [\n    {\n      \"session\": \"DbCore.Tests.Queries.QueryAnySession\",", text, StringComparison.Ordinal);
        Assert.Contains("        { \"name\": \"due_at\", \"type\": \"TEXT\", \"clrType\": \"System.String\", \"nullable\": true }", text, StringComparison.Ordinal);

        await VerifyAsync(QuerySnapshotMode.Write);
        Assert.Equal(written, await File.ReadAllBytesAsync(SnapshotPath));

        QueryVerificationException check = await VerifyAsync(QuerySnapshotMode.Check);
        Assert.Equal(first.Mismatches.Count, check.Mismatches.Count); // only the methods' own mismatches: the snapshot is current
    }

    [Fact]
    public async Task Check_names_stale_and_missing_entries_and_leaves_the_file_alone()
    {
        await VerifyAsync(QuerySnapshotMode.Write);
        string text = await File.ReadAllTextAsync(SnapshotPath);
        int at = text.IndexOf("\"method\": \"DetailsAsync\"", StringComparison.Ordinal);
        int hash = text.IndexOf("\"sqlHash\": \"", at, StringComparison.Ordinal) + "\"sqlHash\": \"".Length;
        string edited = text.Substring(0, hash) + "0000000000000000" + text.Substring(hash + 16);  // as if the SQL had been edited
        edited = edited.Replace("\"name\": \"title\", \"type\": \"TEXT\"", "\"name\": \"title\", \"type\": \"VARCHAR\"", StringComparison.Ordinal); // as if the schema had changed
        await File.WriteAllTextAsync(SnapshotPath, edited);

        QueryVerificationException ex = await VerifyAsync(QuerySnapshotMode.Check);
        Assert.Equal(edited, await File.ReadAllTextAsync(SnapshotPath));
        QueryMismatch[] stale = ex.Mismatches.Where(m => m.Problem.Contains("query snapshot", StringComparison.Ordinal)).ToArray();
        Assert.Contains(stale, m => m.Method == "QueryAnySession.DetailsAsync" && m.Problem.Contains("has no entry for this SQL", StringComparison.Ordinal));
        Assert.Contains(stale, m => m.Method == "QueryAnySession.DetailsAsync" && m.Problem.Contains("no [Query] method of the session has now", StringComparison.Ordinal));
        Assert.Contains(stale, m => m.Problem.Contains("differs from what the database describes now", StringComparison.Ordinal));
        Assert.All(stale, m => Assert.Contains("DBCORE_UPDATE_SNAPSHOTS=1", m.Fix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Entries_of_other_sessions_are_kept()
    {
        const string Other = """
            {
              "version": 1,
              "queries": [
                {
                  "session": "Zeta.OtherSession",
                  "method": "PingAsync",
                  "sqlHash": "0123456789abcdef",
                  "sql": "SELECT 1",
                  "provider": "postgresql",
                  "described": true,
                  "parameters": [],
                  "columns": [
                    { "name": "?column?", "type": "integer", "clrType": "System.Int32", "nullable": true }
                  ]
                }
              ]
            }
            """;
        await File.WriteAllTextAsync(SnapshotPath, Other);
        await VerifyAsync(QuerySnapshotMode.Write);
        string text = await File.ReadAllTextAsync(SnapshotPath);
        Assert.Contains("\"session\": \"DbCore.Tests.Queries.QueryAnySession\"", text, StringComparison.Ordinal);
        Assert.EndsWith(Other.Substring(Other.IndexOf("    {\n      \"session\": \"Zeta.OtherSession\"", StringComparison.Ordinal)) + "\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_of_a_missing_file_fails_and_writes_nothing()
    {
        QueryVerificationException ex = await VerifyAsync(QuerySnapshotMode.Check);
        Assert.Contains(ex.Mismatches, m => m.Method == "QueryAnySession" && m.Problem.Contains("does not exist", StringComparison.Ordinal));
        Assert.False(File.Exists(SnapshotPath));
    }
}
