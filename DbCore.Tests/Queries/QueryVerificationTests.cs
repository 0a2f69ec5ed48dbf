using DbCore.Infrastructure;
using DbCore.Tests.Generator;
using DbCore.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Queries;

/// <summary>A row type whose Id is a string: the wrong member type for an integer column.</summary>
public sealed record WrongIdType(string Id, string Title, bool Done);

/// <summary>A non-nullable member for a nullable column.</summary>
public sealed record DueTodo(long Id, DateTimeOffset DueAt);

/// <summary>A non-nullable member for a column of an outer-joined table.</summary>
public sealed record TodoWithNote(long Id, string Title, string Note);

/// <summary>Deliberately wrong queries, one mistake of each kind, for VerifyQueriesAsync (they compile: the mistakes are the database's to see).</summary>
[DatabaseSettings(Name = "Broken")]
public partial class BrokenSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

public partial class BrokenSession
{
    [Query("SELECT id, title, done FROM todoz ORDER BY id")]
    public partial Task<List<Todo>> UnknownTableAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, titel AS title, done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> UnknownColumnAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial Task<List<WrongIdType>> WrongMemberTypeAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, due_at FROM todos ORDER BY id")]
    public partial Task<List<DueTodo>> NullableIntoNonNullableAsync(CancellationToken cancellationToken = default);

    [Query("SELECT t.id, t.title, n.note FROM todos t LEFT JOIN todo_notes n ON n.todo_id = t.id ORDER BY t.id")]
    public partial Task<List<TodoWithNote>> OuterJoinAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial Task<Todo?> WrongParameterTypeAsync(string id, CancellationToken cancellationToken = default);

    // Correct: the alias asserts NOT NULL for the outer-joined column (WITH keeps the select list out of the analyzer's reach).
    [Query("WITH x AS (SELECT t.id, t.title, n.note FROM todos t LEFT JOIN todo_notes n ON n.todo_id = t.id) SELECT id, title, note AS \"note!\" FROM x ORDER BY id")]
    public partial Task<List<TodoWithNote>> OverriddenOuterJoinAsync(CancellationToken cancellationToken = default);

    // Correct: a computed column made non-nullable by the alias, into a scalar.
    [Query("SELECT max(id) AS \"max!\" FROM todos")]
    public partial Task<long> OverriddenComputedAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// VerifyQueriesAsync against real databases: the test sessions and the TodoApi sample verify clean (but for the one
/// deliberately incomplete method of QueryAnySession), and each kind of mistake is reported with method, column and member.
/// </summary>
public abstract class QueryVerificationTests
{
    protected abstract string Schema { get; }

    protected abstract Task<string> ConnectionStringAsync();

    protected abstract bool IsPostgres { get; }

    protected async Task<string> WithSchemaAsync(string connectionString)
    {
        await using QueryAny db = await TodoSchema.CreateAsync(new QueryAny(new QueryAnySettings { ConnectionString = connectionString }, "Production"), Schema);
        return connectionString;
    }

    [Fact]
    public async Task The_test_sessions_verify_clean_but_for_the_deliberately_wrong_methods()
    {
        string cs = await WithSchemaAsync(await ConnectionStringAsync());
        await using var db = new QueryAny(new QueryAnySettings { ConnectionString = cs }, "Production");
        var ex = await Assert.ThrowsAsync<QueryVerificationException>(() => db.VerifyQueriesAsync());

        // These methods are wrong on purpose, for QueryRuntimeTests: NullDoneAsync puts a computed (nullable) column into the
        // bool Done, MaxNegativeIdAsync a computed max() into a long, WithoutDoneAsync selects no column for Done,
        // MinusOneAsync a computed (nullable) -1 into a uint, and on PostgreSQL TitleAsGuidAsync text into a Guid (SQLite's
        // TEXT affinity holds Guids, so it passes there and fails when a title does not parse).
        Assert.Equal(DeliberatelyWrong(IsPostgres), ex.Mismatches.Select(m => m.Method).Distinct().Order(StringComparer.Ordinal));
        QueryMismatch nullDone = ex.Mismatches.Single(m => m.Method == "QueryAnySession.NullDoneAsync");
        Assert.Equal(("done", "Done"), (nullDone.Column, nullDone.Member));
        QueryMismatch only = ex.Mismatches.Single(m => m.Method == "QueryAnySession.WithoutDoneAsync");
        Assert.Equal("QueryAnySession.WithoutDoneAsync", only.Method);
        Assert.Equal("Done", only.Member);
        Assert.Null(only.Column);
        Assert.Contains("Done", only.Fix, StringComparison.Ordinal);
        Assert.Contains("WITH t AS", only.Sql, StringComparison.Ordinal);
        Assert.Contains("QueryAnySession.WithoutDoneAsync", ex.Message, StringComparison.Ordinal);

        // Nothing was run: the tables are still empty.
        Assert.Empty(await db.ExecuteAsync((s, ct) => s.ListAsync(ct)));
    }

    /// <summary>The methods of <see cref="QueryAnySession"/> that are wrong on purpose, as verification reports them.</summary>
    internal static string[] DeliberatelyWrong(bool postgres) => postgres
        ? ["QueryAnySession.MaxNegativeIdAsync", "QueryAnySession.MinusOneAsync", "QueryAnySession.NegativeLevelAsync", "QueryAnySession.NullDoneAsync", "QueryAnySession.TitleAsGuidAsync", "QueryAnySession.WithoutDoneAsync"]
        : ["QueryAnySession.MaxNegativeIdAsync", "QueryAnySession.MinusOneAsync", "QueryAnySession.NegativeLevelAsync", "QueryAnySession.NullDoneAsync", "QueryAnySession.WithoutDoneAsync"];

    [Fact]
    public async Task The_TodoApi_sample_verifies_clean()
    {
        string cs = await ConnectionStringAsync();
        await using var db = new global::TodoApi.Database(new global::TodoApi.DatabaseSettings { ConnectionString = cs }, "Production");
        await db.ExecuteAsync((s, ct) => IsPostgres ? s.CreatePostgreSqlSchemaAsync(ct) : s.CreateSqliteSchemaAsync(ct));
        await db.VerifyQueriesAsync();
    }

    [Fact]
    public async Task Each_kind_of_mistake_is_reported_with_method_column_and_member()
    {
        string cs = await WithSchemaAsync(await ConnectionStringAsync());
        await using var db = new Broken(new BrokenSettings { ConnectionString = cs }, "Production");
        var ex = await Assert.ThrowsAsync<QueryVerificationException>(() => db.VerifyQueriesAsync());
        ILookup<string, QueryMismatch> byMethod = ex.Mismatches.ToLookup(m => m.Method.Replace("BrokenSession.", string.Empty, StringComparison.Ordinal));

        QueryMismatch table = Assert.Single(byMethod["UnknownTableAsync"]);
        Assert.Contains("todoz", table.Problem, StringComparison.Ordinal);
        Assert.Contains("create table 'todoz'", table.Fix, StringComparison.Ordinal);
        Assert.Null(table.Column);

        QueryMismatch column = Assert.Single(byMethod["UnknownColumnAsync"]);
        Assert.Equal("titel", column.Column);
        Assert.Contains("correct the column name 'titel'", column.Fix, StringComparison.Ordinal);

        QueryMismatch type = Assert.Single(byMethod["WrongMemberTypeAsync"]);
        Assert.Equal(("id", "Id"), (type.Column, type.Member));
        Assert.Contains("declare 'Id' as long", type.Fix, StringComparison.Ordinal);

        QueryMismatch nullable = Assert.Single(byMethod["NullableIntoNonNullableAsync"]);
        Assert.Equal(("due_at", "DueAt"), (nullable.Column, nullable.Member));
        Assert.Contains("nullable in table 'todos'", nullable.Problem, StringComparison.Ordinal);
        Assert.Contains("DateTimeOffset?", nullable.Fix, StringComparison.Ordinal);
        Assert.Contains("AS \"due_at!\"", nullable.Fix, StringComparison.Ordinal);

        QueryMismatch joined = Assert.Single(byMethod["OuterJoinAsync"]);
        Assert.Equal(("note", "Note"), (joined.Column, joined.Member));
        Assert.Contains("outer join", joined.Problem, StringComparison.Ordinal);
        Assert.Contains("todo_notes", joined.Problem, StringComparison.Ordinal);

        if (IsPostgres)
        {
            QueryMismatch parameter = Assert.Single(byMethod["WrongParameterTypeAsync"]);
            Assert.Equal("@id", parameter.Column);
            Assert.Contains("server expects bigint", parameter.Problem, StringComparison.Ordinal);
            Assert.Contains("as long", parameter.Fix, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(byMethod["WrongParameterTypeAsync"]); // SQLite parameters have no type
        }

        Assert.Empty(byMethod["OverriddenOuterJoinAsync"]);
        Assert.Empty(byMethod["OverriddenComputedAsync"]);
        Assert.Equal(IsPostgres ? 6 : 5, ex.Mismatches.Count);
        Assert.All(ex.Mismatches, m => Assert.Contains(m.Method, ex.Message, StringComparison.Ordinal));

        // The override maps at run time too: "note!" goes to Note.
        await db.ExecuteAsync(async (s, ct) =>
        {
            await using var command = s.CreateCommand("INSERT INTO todos (title, done) VALUES ('a', FALSE)");
            await command.ExecuteNonQueryAsync(ct);
            await using var note = s.CreateCommand("INSERT INTO todo_notes (todo_id, note) SELECT id, 'n' FROM todos");
            await note.ExecuteNonQueryAsync(ct);
        });
        TodoWithNote row = Assert.Single(await db.ExecuteAsync((s, ct) => s.OverriddenOuterJoinAsync(ct)));
        Assert.Equal(("a", "n"), (row.Title, row.Note));
        Assert.Equal(row.Id, await db.ExecuteAsync((s, ct) => s.OverriddenComputedAsync(ct)));
    }
}

public sealed class SqliteQueryVerificationTests : QueryVerificationTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-verify-").FullName;

    protected override bool IsPostgres => false;

    protected override string Schema => TodoSchema.Sqlite + ";\nCREATE TABLE todo_notes (todo_id INTEGER NOT NULL REFERENCES todos (id), note TEXT NOT NULL);";

    protected override Task<string> ConnectionStringAsync()
        => Task.FromResult($"Data Source={Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db")}");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_schema_script_verifies_without_a_database_file()
    {
        // The same three deliberately wrong methods as against a live file, from the script alone.
        var ex = await Assert.ThrowsAsync<QueryVerificationException>(() => QueryAny.VerifyQueriesAgainstSqliteSchemaAsync(Schema));
        Assert.Equal(DeliberatelyWrong(postgres: false), ex.Mismatches.Select(m => m.Method).Distinct().Order(StringComparer.Ordinal));

        // A script that lacks a column the queries read: the mismatch names it.
        string stale = Schema.Replace("due_at TEXT NULL", "due TEXT NULL", StringComparison.Ordinal);
        var staleEx = await Assert.ThrowsAsync<QueryVerificationException>(() => QueryAny.VerifyQueriesAgainstSqliteSchemaAsync(stale));
        Assert.Contains(staleEx.Mismatches, m => m.Method == "QueryAnySession.DetailsAsync" && m.Problem.Contains("due_at", StringComparison.Ordinal));

        // A script that does not run is a clear argument error, not a verification result.
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => QueryAny.VerifyQueriesAgainstSqliteSchemaAsync("CREATE TABLE ("));
        Assert.Contains("schema script", bad.Message, StringComparison.Ordinal);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresQueryVerificationTests(PostgresServer server) : QueryVerificationTests
{
    protected override bool IsPostgres => true;

    protected override string Schema => TodoSchema.PostgreSql + ";\nCREATE TABLE todo_notes (todo_id BIGINT NOT NULL REFERENCES todos (id), note TEXT NOT NULL);";

    protected override async Task<string> ConnectionStringAsync()
    {
        server.EnsureAvailable();
        return await server.CreateDatabaseAsync("verify");
    }

    [PostgresFact]
    public async Task The_pinned_session_verifies_clean()
    {
        string cs = await WithSchemaAsync(await ConnectionStringAsync());
        await using var db = new QueryPg(new QueryPgSettings { ConnectionString = cs }, "Production");
        await db.VerifyQueriesAsync();
    }
}

/// <summary>The generated query catalog and VerifyQueriesAsync, and the NOT NULL override in column matching.</summary>
public sealed class QueryCatalogTests
{
    [Fact]
    public void Catalog_of_a_pinned_postgresql_session() => GeneratorHarness.VerifyQueryCatalogAgainstBaseline(
        QueryBaselineTests.Source("[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]", "Host=localhost;Database=app;Username=app"),
        "Queries.Catalog.g.cs");

    [Theory]
    [InlineData("title!", "Title", true)]
    [InlineData("due_at!", "DueAt", true)]
    [InlineData("title", "Title", true)]
    [InlineData("title!!", "Title", false)]
    [InlineData("!title", "Title", false)]
    [InlineData("!", "", true)]
    public void Name_matching_ignores_the_not_null_override(string column, string member, bool matches)
        => Assert.Equal(matches, QuerySupport.NameMatches(column, member));
}
