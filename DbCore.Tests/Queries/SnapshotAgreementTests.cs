using System.Collections.Immutable;
using System.Globalization;
using DbCore.Tests.Diagnostics;
using DbCore.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DbCore.Tests.Queries;

/// <summary>
/// One mistake, two places, the same words: a row member of the wrong type fails VerifyQueriesAsync against the real
/// database, and against the snapshot that verification wrote the analyzer reports it as DBC0114 at the method, with the
/// verifier's problem and fix (one set of rules, shared by both).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SnapshotAgreementTests(PostgresServer server) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-agree-").FullName;

    private QueryVerificationOptions Options => new() { SnapshotPath = Path.Combine(_directory, "dbcore.queries.json") };

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Sqlite_verifier_and_analyzer_agree_on_a_wrong_member_type()
    {
        var ex = await Assert.ThrowsAsync<QueryVerificationException>(() => Broken.VerifyQueriesAgainstSqliteSchemaAsync(QuerySnapshotFileTests.Schema, Options));
        await AssertAnalyzerAgreesAsync(ex);
    }

    [PostgresFact]
    public async Task Postgres_verifier_and_analyzer_agree_on_a_wrong_member_type()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("agree");
        await using var db = new Broken(new BrokenSettings { ConnectionString = cs }, "Production");
        await db.ExecuteAsync(async (s, ct) =>
        {
            await using var command = s.CreateCommand(TodoSchema.PostgreSql + ";\nCREATE TABLE todo_notes (todo_id BIGINT NOT NULL REFERENCES todos (id), note TEXT NOT NULL);");
            await command.ExecuteNonQueryAsync(ct);
        });
        var ex = await Assert.ThrowsAsync<QueryVerificationException>(() => db.VerifyQueriesAsync(Options));
        await AssertAnalyzerAgreesAsync(ex);
    }

    /// <summary>BrokenSession.WrongMemberTypeAsync, compiled with the written snapshot: DBC0114 with the verifier's words.</summary>
    private async Task AssertAnalyzerAgreesAsync(QueryVerificationException ex)
    {
        QueryMismatch wrong = Assert.Single(ex.Mismatches, m => m.Method == "BrokenSession.WrongMemberTypeAsync");
        Assert.Equal(("id", "Id"), (wrong.Column, wrong.Member));
        const string Source = """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using DbCore;

            namespace DbCore.Tests.Queries;

            [DatabaseSettings(Name = "Broken")]
            public partial class BrokenSettings { [ConnectionString] public string ConnectionString { get; set; } = "Data Source=:memory:"; }

            public sealed record WrongIdType(string Id, string Title, bool Done);

            public partial class BrokenSession
            {
                [Query("SELECT id, title, done FROM todos ORDER BY id")]
                public partial Task<List<WrongIdType>> WrongMemberTypeAsync(CancellationToken cancellationToken = default);
            }
            """;
        string path = Options.SnapshotPath!;
        var options = GlobalOptionsProvider.Create([new InMemoryAdditionalText(path, await File.ReadAllTextAsync(path))]);
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(options, Source);
        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(("DBC0114", DiagnosticSeverity.Error), (diagnostic.Id, diagnostic.Severity));
        Assert.Equal("WrongMemberTypeAsync", Source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length));
        Assert.Equal(
            $"'BrokenSession.WrongMemberTypeAsync' does not match its SQL as dbcore.queries.json describes it: {wrong.Problem.TrimEnd('.')}; {wrong.Fix.TrimEnd('.')}",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }
}
