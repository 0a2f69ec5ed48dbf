using System.Collections.Immutable;
using System.Globalization;
using DbCore.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Tests.Diagnostics;

/// <summary>
/// DBC0112-DBC0115: the analyzer checks each <c>[Query]</c> method against <c>dbcore.queries.json</c> with no database: a
/// missing or stale entry is info (an error with DbCoreRequireQuerySnapshot), a contradiction is an error at the method
/// naming column and member, an unreadable file is a warning; no file and no requirement is silence.
/// </summary>
public sealed class QuerySnapshotDiagnosticTests
{
    private const string FindSql = "SELECT id, title, done FROM todos WHERE id = $1";

    private static readonly SnapshotColumn[] s_todoSqlite =
    [
        new("id", "INTEGER", "System.Int64", false),
        new("title", "TEXT", "System.String", false),
        new("done", "BOOLEAN", null, false),
    ];

    private static readonly SnapshotColumn[] s_todoPostgres =
    [
        new("id", "bigint", "System.Int64", false),
        new("title", "text", "System.String", false),
        new("done", "boolean", "System.Boolean", false),
    ];

    private static string Session(string members) => QueryDiagnosticTests.Header + "public partial class DatabaseSession\n{\n" + members + "\n}\n";

    /// <summary>A snapshot entry of <c>App.DatabaseSession</c>.</summary>
    private static SnapshotEntry Entry(string method, string positionalSql, string provider, SnapshotParameter[] parameters, SnapshotColumn[] columns, bool described = true)
        => new("App.DatabaseSession", method, QuerySnapshotFormat.SqlHash(positionalSql), positionalSql, provider, described, parameters, columns);

    private static SnapshotEntry FindEntry(string provider = QuerySnapshotFormat.Sqlite, SnapshotColumn[]? columns = null)
        => Entry("FindAsync", FindSql, provider, [new("id", provider == QuerySnapshotFormat.PostgreSql ? "bigint" : null)], columns ?? (provider == QuerySnapshotFormat.PostgreSql ? s_todoPostgres : s_todoSqlite));

    private static AdditionalText File(params SnapshotEntry[] entries) => new InMemoryAdditionalText("/app/dbcore.queries.json", QuerySnapshotFormat.Write(entries));

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string markup, AdditionalText? file, bool required = false)
    {
        (string source, _) = AnalyzerHarness.ParseMarkup(markup);
        var options = GlobalOptionsProvider.Create(file is null ? [] : [file], required ? [("DbCoreRequireQuerySnapshot", "true")] : []);
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(options, source);
        return diagnostics;
    }

    /// <summary>Asserts one diagnostic per marked span, each with the id, severity and message given (in span order).</summary>
    private static async Task AssertAsync(string markup, AdditionalText? file, bool required, string id, DiagnosticSeverity severity, params string[] messages)
    {
        (string source, ImmutableArray<TextSpan> spans) = AnalyzerHarness.ParseMarkup(markup);
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(markup, file, required);
        Assert.True(diagnostics.Length == messages.Length, "Got:\n" + string.Join("\n", diagnostics));
        for (int i = 0; i < messages.Length; i++)
        {
            Assert.Equal((id, severity), (diagnostics[i].Id, diagnostics[i].Severity));
            Assert.Equal(messages[i], diagnostics[i].GetMessage(CultureInfo.InvariantCulture));
            TextSpan span = spans[Math.Min(i, spans.Length - 1)];
            Assert.Equal(source.Substring(span.Start, span.Length), source.Substring(diagnostics[i].Location.SourceSpan.Start, diagnostics[i].Location.SourceSpan.Length));
        }
    }

    private const string Find = """
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> [|FindAsync|](long id, CancellationToken cancellationToken = default);
        """;

    [Fact]
    public async Task No_snapshot_and_no_requirement_reports_nothing()
        => Assert.Empty(await AnalyzeAsync(Session(Find), file: null));

    [Theory]
    [InlineData(QuerySnapshotFormat.Sqlite)]
    [InlineData(QuerySnapshotFormat.PostgreSql)]
    public async Task A_method_that_matches_its_entry_reports_nothing(string provider)
        => Assert.Empty(await AnalyzeAsync(Session(Find), File(FindEntry(provider)), required: true));

    [Fact]
    public Task DBC0112_a_method_without_entry_is_info() => AssertAsync(
        Session(Find), File(), required: false, "DBC0112", DiagnosticSeverity.Info,
        "'DatabaseSession.FindAsync' has no entry in dbcore.queries.json; run VerifyQueriesAsync with QueryVerificationOptions.SnapshotPath against the database and commit the file");

    [Fact]
    public Task DBC0112_an_edited_sql_makes_the_entry_stale() => AssertAsync(
        Session(Find.Replace("WHERE id = @id", "WHERE id = @id AND done", StringComparison.Ordinal)), File(FindEntry()), required: false, "DBC0112", DiagnosticSeverity.Info,
        "'DatabaseSession.FindAsync' has a stale entry in dbcore.queries.json (recorded for other SQL); run VerifyQueriesAsync with QueryVerificationOptions.SnapshotPath against the database and commit the file");

    [Fact]
    public Task DBC0113_a_missing_entry_is_an_error_when_the_project_requires_the_snapshot() => AssertAsync(
        Session(Find), File(), required: true, "DBC0113", DiagnosticSeverity.Error,
        "'DatabaseSession.FindAsync' has no entry in dbcore.queries.json; run VerifyQueriesAsync with QueryVerificationOptions.SnapshotPath against the database and commit the file (the project sets DbCoreRequireQuerySnapshot)");

    [Fact]
    public Task DBC0113_a_required_snapshot_that_is_not_there() => AssertAsync(
        Session(Find), file: null, required: true, "DBC0113", DiagnosticSeverity.Error,
        "'DatabaseSession.FindAsync' cannot be checked: the project has no dbcore.queries.json; run VerifyQueriesAsync with QueryVerificationOptions.SnapshotPath against the database and commit the file (the project sets DbCoreRequireQuerySnapshot)");

    [Theory]
    [InlineData(QuerySnapshotFormat.Sqlite, "INTEGER")]
    [InlineData(QuerySnapshotFormat.PostgreSql, "bigint")]
    public Task DBC0114_a_wrong_member_type_is_an_error_at_the_method_naming_column_and_member(string provider, string type) => AssertAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<WrongId?> [|FindAsync|](long id, CancellationToken cancellationToken = default);
        """) + "public sealed record WrongId(string Id, string Title, bool Done);\n",
        File(FindEntry(provider)), required: false, "DBC0114", DiagnosticSeverity.Error,
        $"'DatabaseSession.FindAsync' does not match its SQL as dbcore.queries.json describes it: column 'id' is {type} and member 'Id' is string, which it cannot be read as; declare 'Id' as long, or cast the column in the SQL to a type that reads as string");

    [Fact]
    public Task DBC0114_a_nullable_column_into_a_non_nullable_member() => AssertAsync(
        Session(Find), File(FindEntry(columns: [s_todoSqlite[0], new("title", "TEXT", "System.String", true), s_todoSqlite[2]])), required: false, "DBC0114", DiagnosticSeverity.Error,
        "'DatabaseSession.FindAsync' does not match its SQL as dbcore.queries.json describes it: column 'title' can be NULL (dbcore.queries.json records it as nullable) and 'Title' (string) is not nullable; declare 'Title' as string?; or, if it can never be NULL, exclude NULL in the query (e.g. COALESCE) or alias the column AS \"title!\" to assert it is never NULL");

    [Fact]
    public async Task The_not_null_override_is_respected()
    {
        const string Sql = "SELECT t.id, t.title, n.note AS \"note!\" FROM todos t LEFT JOIN notes n ON n.todo_id = t.id";
        string source = Session($$"""
            [Query("{{Sql.Replace("\"", "\\\"", StringComparison.Ordinal)}}")]
            public partial Task<List<Noted>> NotedAsync(CancellationToken cancellationToken = default);
        """) + "public sealed record Noted(long Id, string Title, string Note);\n";
        SnapshotEntry entry = Entry("NotedAsync", Sql, QuerySnapshotFormat.Sqlite, [], [s_todoSqlite[0], s_todoSqlite[1], new("note!", "TEXT", "System.String", false)]);
        Assert.Empty(await AnalyzeAsync(source, File(entry)));
    }

    [Fact]
    public Task DBC0114_a_parameter_type_the_server_does_not_expect() => AssertAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> [|FindAsync|](string id, CancellationToken cancellationToken = default);
        """), File(FindEntry(QuerySnapshotFormat.PostgreSql)), required: false, "DBC0114", DiagnosticSeverity.Error,
        "'DatabaseSession.FindAsync' does not match its SQL as dbcore.queries.json describes it: parameter @id is string and the server expects bigint; declare the method parameter as long, or cast the placeholder in the SQL (@id::text) if the conversion is intended");

    [Fact]
    public Task DBC0114_column_names_that_do_not_match_the_members() => AssertAsync(
        Session("""
            [Query("WITH t AS (SELECT id, title AS name, done FROM todos) SELECT id, name, done FROM t WHERE id = @id")]
            public partial Task<Todo?> [|FindAsync|](long id, CancellationToken cancellationToken = default);
        """),
        File(Entry("FindAsync", "WITH t AS (SELECT id, title AS name, done FROM todos) SELECT id, name, done FROM t WHERE id = $1", QuerySnapshotFormat.Sqlite, [new("id", null)], [s_todoSqlite[0], new("name", "TEXT", "System.String", false), s_todoSqlite[2]])),
        required: false, "DBC0114", DiagnosticSeverity.Error,
        "'DatabaseSession.FindAsync' does not match its SQL as dbcore.queries.json describes it: column 'name' maps to no member of the row type (names match ignoring case and underscores); remove the column from the select list, alias it AS the name of a member, or add a member named 'name'",
        "'DatabaseSession.FindAsync' does not match its SQL as dbcore.queries.json describes it: no column of the result maps to the required member 'Title'; select a column named 'Title' (case and underscores ignored) or alias one AS Title; or make the member optional (a settable property)");

    [Fact]
    public async Task An_undescribed_entry_is_current_and_checks_nothing()
    {
        string source = Session("""
            [Query("CREATE TABLE todos (id INTEGER PRIMARY KEY)")]
            public partial Task CreateAsync(CancellationToken cancellationToken = default);
        """);
        Assert.Empty(await AnalyzeAsync(source, File(Entry("CreateAsync", "CREATE TABLE todos (id INTEGER PRIMARY KEY)", QuerySnapshotFormat.Sqlite, [], [], described: false)), required: true));
    }

    [Fact]
    public async Task DBC0115_an_unreadable_snapshot_is_a_warning_at_the_file()
    {
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(Session(Find), new InMemoryAdditionalText("/app/dbcore.queries.json", "{ \"version\": 1, \"queries\": [ { \"session\": 3 } ] }"));
        Diagnostic diagnostic = Assert.Single(diagnostics);
        Assert.Equal(("DBC0115", DiagnosticSeverity.Warning), (diagnostic.Id, diagnostic.Severity));
        Assert.Equal("/app/dbcore.queries.json", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(
            "dbcore.queries.json cannot be read (a query entry: \"session\" must be a string), so no query is checked against it; rewrite it with VerifyQueriesAsync and QueryVerificationOptions.SnapshotPath",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("long", 0)]
    [InlineData("string", 2)]
    public async Task The_Quickstart_sample_with_its_committed_snapshot(string idType, int expected)
    {
        // The sample's own sources and dbcore.queries.json, as its build sees them: clean when required, and a wrong member
        // type is DBC0114 at both methods that read a Note.
        string directory = Path.Combine(DbCore.Tests.Queries.QuerySnapshots.RepositoryRoot, "samples", "Quickstart");
        const string ImplicitUsings = "using System;\nusing System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\n";
        string session = System.IO.File.ReadAllText(Path.Combine(directory, "DatabaseSession.cs"))
            .Replace("public sealed record Note(long Id, string Body);", $"public sealed record Note({idType} Id, string Body);", StringComparison.Ordinal);
        string settings = System.IO.File.ReadAllText(Path.Combine(directory, "DatabaseSettings.cs"));
        string snapshot = System.IO.File.ReadAllText(Path.Combine(directory, "dbcore.queries.json"));
        var options = GlobalOptionsProvider.Create([new InMemoryAdditionalText(Path.Combine(directory, "dbcore.queries.json"), snapshot)], ("DbCoreRequireQuerySnapshot", "true"));
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(options, ImplicitUsings + session, ImplicitUsings + settings);
        Assert.Equal(expected, diagnostics.Length);
        Assert.All(diagnostics, d => Assert.Equal(("DBC0114", DiagnosticSeverity.Error), (d.Id, d.Severity)));
        Assert.Equal(expected == 0 ? [] : new[] { "'DatabaseSession.FindNoteAsync'", "'DatabaseSession.StreamNotesAsync'" },
            diagnostics.Select(d => d.GetMessage(CultureInfo.InvariantCulture).Split(' ')[0]));
    }
}
