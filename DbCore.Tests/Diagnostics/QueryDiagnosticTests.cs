using System.Collections.Immutable;
using DbCore.Tests.Generator;
using Microsoft.CodeAnalysis;

namespace DbCore.Tests.Diagnostics;

/// <summary>
/// DBC0101-DBC0110: for each, the bad method reports exactly the expected diagnostic, severity, message and span; valid
/// sessions report nothing; an invalid method leaves the generator's stub and no compiler error besides the diagnostic.
/// </summary>
public sealed class QueryDiagnosticTests
{
    /// <summary>Usings, a valid settings class (so <c>DatabaseSession</c> is generated) and two row types; also used by the query code fix tests.</summary>
    internal const string Header = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using DbCore;

        namespace App;

        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }

        public sealed record Todo(long Id, string Title, bool Done);

        public sealed class TodoSummary
        {
            public required long Id { get; init; }
            public string? Title { get; set; }
        }

        """;

    /// <summary>The settings class, the row types and a session with <paramref name="members"/>.</summary>
    private static string Session(string members) => Header + "public partial class DatabaseSession\n{\n" + members + "\n}\n";

    // DBC0101 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0101_placeholder_without_parameter() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = [|@id|] AND done = [|@done|]")]
            public partial Task<Todo?> FindAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0101", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)",
        "The SQL of 'DatabaseSession.FindAsync' uses '@done', but the method has no parameter named 'done'; add the parameter (names match case- and underscore-insensitively)");

    [Fact]
    public Task DBC0101_span_skips_the_same_text_in_sql_strings_and_comments() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done /* @id */ FROM todos WHERE title <> '@id' AND id = [|@id|]")]
            public partial Task<Todo?> FindAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0101", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)");

    [Fact]
    public Task DBC0101_span_in_a_literal_with_escapes() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos\n\tWHERE title <> '\u00e9\"' AND id = [|@id|]")]
            public partial Task<Todo?> FindAsync(CancellationToken cancellationToken = default);

            [Query(@"SELECT id, title, done FROM todos WHERE title <> '""x""' AND id = [|@key|]")]
            public partial Task<Todo?> FindVerbatimAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0101", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)",
        "The SQL of 'DatabaseSession.FindVerbatimAsync' uses '@key', but the method has no parameter named 'key'; add the parameter (names match case- and underscore-insensitively)");

    [Fact]
    public Task DBC0101_span_in_a_multi_line_raw_literal() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session(""""
            [Query("""
                SELECT id, title, done
                FROM todos
                WHERE id = [|@id|]
                """)]
            public partial Task<Todo?> FindAsync(CancellationToken cancellationToken = default);

            [Query("""SELECT id, title, done FROM todos WHERE id = [|@id|]""")]
            public partial Task<Todo?> FindOneLineAsync(CancellationToken cancellationToken = default);
        """"),
        "DBC0101", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)",
        "The SQL of 'DatabaseSession.FindOneLineAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)");

    [Fact]
    public Task DBC0101_sql_from_a_constant_is_reported_on_the_argument() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            private const string FindSql = "SELECT id, title, done FROM todos WHERE id = @id";

            [Query([|FindSql|])]
            public partial Task<Todo?> FindAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0101", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '@id', but the method has no parameter named 'id'; add the parameter (names match case- and underscore-insensitively)");

    [Fact]
    public Task DBC0101_fixed() => AssertCleanSessionAsync(Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);
        """), queries: 1);

    // DBC0102 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0102_parameter_not_used() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindAsync(long id, string [|title|], CancellationToken cancellationToken = default);
        """),
        "DBC0102", DiagnosticSeverity.Warning,
        "Parameter 'title' of 'DatabaseSession.FindAsync' is not used by the SQL; use it as '@title' or remove it");

    [Fact]
    public Task DBC0102_a_placeholder_in_a_comment_does_not_use_the_parameter() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos -- WHERE id = @id")]
            public partial Task<List<Todo>> ListAsync(long [|id|], CancellationToken cancellationToken = default);
        """),
        "DBC0102", DiagnosticSeverity.Warning,
        "Parameter 'id' of 'DatabaseSession.ListAsync' is not used by the SQL; use it as '@id' or remove it");

    /// <summary>
    /// Two parameters that one placeholder matches (<c>ab</c> and <c>a_b</c> for <c>@a_b</c>): the placeholder binds the
    /// one of its exact name, and the other is unused. Review helper-43: <c>@a_b</c> was bound from <c>ab</c>, the first
    /// declared, and neither was reported.
    /// </summary>
    [Fact]
    public Task DBC0102_the_parameter_a_placeholder_names_exactly_wins_and_the_other_is_unused() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @a_b")]
            public partial Task<Todo?> FindAsync(long [|ab|], long a_b, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE id = @Key")]
            public partial Task<Todo?> ByKeyAsync(long [|k_ey|], long key, CancellationToken cancellationToken = default);
        """),
        "DBC0102", DiagnosticSeverity.Warning,
        "Parameter 'ab' of 'DatabaseSession.FindAsync' is not used by the SQL; use it as '@ab' or remove it",
        "Parameter 'k_ey' of 'DatabaseSession.ByKeyAsync' is not used by the SQL; use it as '@k_ey' or remove it");

    // DBC0103 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0103_interpolated_string() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            private const string Table = "todos";

            [Query([|$"SELECT id, title, done FROM {Table}"|])]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0103", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.ListAsync' must be a string literal or a constant, not an interpolated string; values go in parameters (@name), never into the SQL text");

    [Fact]
    public Task DBC0103_concatenation() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            private const string Columns = "id, title, done";

            [Query([|"SELECT " + Columns + " FROM todos"|])]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query([|("SELECT id, title, done " + "FROM todos")|])]
            public partial Task<List<Todo>> ListAgainAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0103", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.ListAsync' must be a string literal or a constant, not a concatenation; values go in parameters (@name), never into the SQL text",
        "The SQL of 'DatabaseSession.ListAgainAsync' must be a string literal or a constant, not a concatenation; values go in parameters (@name), never into the SQL text");

    [Fact]
    public Task DBC0103_other_expression() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            private const bool Ordered = true;

            [Query([|Ordered ? "SELECT id, title, done FROM todos ORDER BY id" : "SELECT id, title, done FROM todos"|])]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0103", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.ListAsync' must be a string literal or a constant, not an expression; values go in parameters (@name), never into the SQL text");

    [Fact]
    public Task DBC0103_empty_sql() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query([|"  "|])]
            public partial Task DoNothingAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0103", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.DoNothingAsync' must be a string literal or a constant, not empty; values go in parameters (@name), never into the SQL text");

    [Fact]
    public Task DBC0103_fixed_with_a_literal_or_a_constant() => AssertCleanSessionAsync(Session("""
            private const string ListSql = "SELECT id, title, done FROM todos";

            [Query(ListSql)]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query(("SELECT id, title, done FROM todos ORDER BY id"))]
            public partial Task<List<Todo>> ListOrderedAsync(CancellationToken cancellationToken = default);
        """), queries: 2);

    // DBC0104 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0104_unsupported_return_type() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos")]
            public partial [|List<Todo>|] ListAsync();
        """),
        "DBC0104", DiagnosticSeverity.Error,
        "'DatabaseSession.ListAsync' cannot be generated: 'System.Collections.Generic.List<App.Todo>' is not a supported return type; return Task or ValueTask of T (one row), T? (zero or one), List<T>, IReadOnlyList<T> or T[] (all rows), int (rows affected), or nothing; or IAsyncEnumerable<T>");

    [Fact]
    public Task DBC0104_unsupported_row_types() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title FROM todos")]
            public partial [|Task<List<Dictionary<string, object>>>|] ListAsync();

            [Query("SELECT id, title FROM todos")]
            public partial [|Task<List<(long, string)>>|] ListTuplesAsync();

            [Query("SELECT id FROM todos")]
            public partial [|Task<object>|] FirstAsync();
        """),
        "DBC0104", DiagnosticSeverity.Error,
        "'DatabaseSession.ListAsync' cannot be generated: 'System.Collections.Generic.Dictionary<string, object>' is not a supported row type; use a record, a class or struct with a public constructor or settable members, a named tuple, or a scalar",
        "'DatabaseSession.ListTuplesAsync' cannot be generated: the tuple '(long, string)' has unnamed elements; name every element, e.g. (long Id, string Title), so that columns can map to them",
        "'DatabaseSession.FirstAsync' cannot be generated: 'object' is not a supported row type; use a record, a class or struct with a public constructor or settable members, a named tuple, or a scalar");

    // DBC0105 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0105_required_member_not_selected() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT [|id, title|] FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query("INSERT INTO todos (title) VALUES (@title) RETURNING [|title|]")]
            public partial Task<TodoSummary> InsertAsync(string title, CancellationToken cancellationToken = default);

            private const string TitlesSql = "SELECT title FROM todos";

            [Query([|TitlesSql|])]
            public partial Task<List<TodoSummary>> SummariesAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0105", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.ListAsync' selects no column for 'Done' of 'Todo', which needs a value; select a column named 'Done' (case and underscores ignored) or alias one with AS",
        "The SQL of 'DatabaseSession.InsertAsync' selects no column for 'Id' of 'TodoSummary', which needs a value; select a column named 'Id' (case and underscores ignored) or alias one with AS",
        "The SQL of 'DatabaseSession.SummariesAsync' selects no column for 'Id' of 'TodoSummary', which needs a value; select a column named 'Id' (case and underscores ignored) or alias one with AS");

    [Fact]
    public Task DBC0105_not_for_a_constructor_parameter_with_a_default_value() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            public sealed record Defaulted(long Id, string Title = "", bool Done = false, decimal Weight = 1.5m, Priority Level = Priority.High, string? Note = null);

            public enum Priority { Low = -1, High = 2 }

            [Query("SELECT id FROM todos")]
            public partial Task<List<Defaulted>> IdsAsync(CancellationToken cancellationToken = default);

            [Query("SELECT [|title|] FROM todos")]
            public partial Task<List<Defaulted>> TitlesAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0105", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.TitlesAsync' selects no column for 'Id' of 'Defaulted', which needs a value; select a column named 'Id' (case and underscores ignored) or alias one with AS");

    [Fact]
    public Task DBC0105_fixed_and_not_checked_where_the_list_is_not_readable() => AssertCleanSessionAsync(Session("""
            [Query("SELECT t.id, t.title AS Title, (t.state = 'done') AS done FROM todos t")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id FROM todos")]
            public partial Task<List<TodoSummary>> SummariesAsync(CancellationToken cancellationToken = default);

            [Query("WITH t AS (SELECT id FROM todos) SELECT id FROM t")]
            public partial Task<List<Todo>> WithAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, lower(title), done FROM todos")]
            public partial Task<List<Todo>> ExpressionAsync(CancellationToken cancellationToken = default);
        """), queries: 4);

    // DBC0106 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0106_column_without_member() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done, [|created_at|] FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, count(*) AS count, max(id) [|n|] FROM todos GROUP BY id")]
            public partial Task<List<(long Id, long Count)>> CountsAsync(CancellationToken cancellationToken = default);

            [Query("INSERT INTO todos (title) VALUES (@title) RETURNING id, title, done, t.[|\"Extra\"|]")]
            public partial Task<Todo> InsertAsync(string title, CancellationToken cancellationToken = default);
        """),
        "DBC0106", DiagnosticSeverity.Warning,
        "The SQL of 'DatabaseSession.ListAsync' selects 'created_at', which no member of 'Todo' takes; remove the column or add a member for it",
        "The SQL of 'DatabaseSession.CountsAsync' selects 'n', which no member of '(long Id, long Count)' takes; remove the column or add a member for it",
        "The SQL of 'DatabaseSession.InsertAsync' selects 'Extra', which no member of 'Todo' takes; remove the column or add a member for it");

    [Fact]
    public async Task DBC0106_is_a_warning_and_the_method_is_still_generated()
    {
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Session("""
                [Query("SELECT id, title, done, created_at FROM todos")]
                public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
            """));
        Assert.Equal("DBC0106", Assert.Single(diagnostics).Id);
        AssertImplemented(output, "ListAsync");
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    // DBC0107 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0107_select_star() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT [|*|] FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query("SELECT [|t.*|] FROM todos t WHERE t.id = @id")]
            public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

            [Query("UPDATE todos SET done = TRUE WHERE id = @id RETURNING [|*|]")]
            public partial Task<Todo> CompleteAsync(long id, CancellationToken cancellationToken = default);
        """),
        "DBC0107", DiagnosticSeverity.Warning,
        "The SQL of 'DatabaseSession.ListAsync' selects '*': the columns then change with the table and cannot be checked; list the columns",
        "The SQL of 'DatabaseSession.FindAsync' selects '*': the columns then change with the table and cannot be checked; list the columns",
        "The SQL of 'DatabaseSession.CompleteAsync' selects '*': the columns then change with the table and cannot be checked; list the columns");

    [Fact]
    public Task DBC0107_not_for_count_star_or_multiplication() => AssertCleanSessionAsync(Session("""
            [Query("SELECT count(*) FROM todos")]
            public partial Task<long> CountAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id * 2 AS id, title, done FROM todos")]
            public partial Task<List<Todo>> DoubledAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE title = '*'")]
            public partial Task<List<Todo>> StarTitleAsync(CancellationToken cancellationToken = default);
        """), queries: 3);

    [Fact]
    public Task Not_null_override_alias_maps_to_its_member() => AssertCleanSessionAsync(Session("""
            [Query("SELECT id, title AS \"title!\", done FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
        """), queries: 1);

    // DBC0111 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0111_rows_affected_of_a_select() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT count(*) FROM todos")]
            public partial [|Task<int>|] CountAsync(CancellationToken cancellationToken = default);

            [Query("DELETE FROM todos WHERE done")]
            public partial Task<int> PurgeAsync(CancellationToken cancellationToken = default);

            [Query("SELECT max(id) FROM todos")]
            public partial Task<int?> MaxAsync(CancellationToken cancellationToken = default);
        """),
        "DBC0111", DiagnosticSeverity.Warning,
        "'DatabaseSession.CountAsync' returns Task<int>, which is the number of rows affected, but its SQL returns rows (rows affected of a SELECT is -1); to read a number use Task<long> or Task<int?>, to read rows use a row type");

    // DBC0108 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0108_method_not_partial() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos")]
            public Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default) => Task.FromResult(new List<Todo>());

            [Query("SELECT count(*) FROM todos")]
            public async Task<long> [|CountAsync|]()
            {
                await Task.Yield();
                return 0;
            }
        """),
        "DBC0108", DiagnosticSeverity.Error,
        "'DatabaseSession.ListAsync' must be declared 'partial' without a body so that DbCore can generate it; add the 'partial' modifier and end the declaration with ';' instead of a body",
        "'DatabaseSession.CountAsync' must be declared 'partial' without a body so that DbCore can generate it; add the 'partial' modifier and end the declaration with ';' instead of a body");

    // DBC0109 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0109_not_a_generated_session() => AnalyzerHarness.AssertDiagnosticsAsync(
        Header + """
        public partial class TodoRepository
        {
            [Query("SELECT id, title, done FROM todos")]
            public partial Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default);
        }

        public static partial class Outer
        {
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public partial Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default);
            }
        }
        """,
        "DBC0109", DiagnosticSeverity.Error,
        "'TodoRepository.ListAsync' is declared in 'App.TodoRepository', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace",
        "'DatabaseSession.ListAsync' is declared in 'App.Outer.DatabaseSession', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace");

    [Fact]
    public Task DBC0109_session_in_another_namespace() => AnalyzerHarness.AssertDiagnosticsAsync(
        """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using DbCore;

        namespace App
        {
            [DatabaseSettings]
            public partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
            }

            public sealed record Todo(long Id, string Title, bool Done);
        }

        namespace Other
        {
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public partial Task<List<App.Todo>> [|ListAsync|](CancellationToken cancellationToken = default);
            }
        }
        """,
        "DBC0109", DiagnosticSeverity.Error,
        "'DatabaseSession.ListAsync' is declared in 'Other.DatabaseSession', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace");

    [Fact]
    public Task DBC0109_static_or_generic_method() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos")]
            public static partial Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos")]
            public partial Task<List<Todo>> [|ListOfAsync|]<T>(CancellationToken cancellationToken = default);
        """),
        "DBC0109", DiagnosticSeverity.Error,
        "'DatabaseSession.ListAsync' is static; a [Query] method must be a non-generic instance method of a generated session, so that it runs on the session's connection",
        "'DatabaseSession.ListOfAsync' is generic; a [Query] method must be a non-generic instance method of a generated session, so that it runs on the session's connection");

    // DBC0110 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0109_in_generic_types_leaves_a_stub_and_no_compiler_error() => AnalyzerHarness.AssertDiagnosticsAsync(
        Header + """
        public partial class Repository<T>
        {
            [Query("SELECT id, title, done FROM todos")]
            public partial Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default);
        }

        public static partial class Outer<TKey, TValue>
        {
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public partial Task<List<Todo>> [|ListAsync|](CancellationToken cancellationToken = default);
            }
        }
        """,
        "DBC0109", DiagnosticSeverity.Error,
        "'Repository.ListAsync' is declared in 'App.Repository<T>', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace",
        "'DatabaseSession.ListAsync' is declared in 'App.Outer<TKey, TValue>.DatabaseSession', which is not a session DbCore generates; declare it in a 'partial class' named after a [DatabaseSettings] class's session (for example 'DatabaseSession'), in the same namespace");

    [Fact]
    public Task DBC0110_a_placeholder_naming_the_cancellation_token() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @cancellation_token")]
            public partial Task<Todo?> FindAsync(CancellationToken [|cancellationToken|] = default);
        """),
        "DBC0110", DiagnosticSeverity.Error,
        "Parameter 'cancellationToken' of 'DatabaseSession.FindAsync' cannot be bound: a CancellationToken is passed to the provider, not bound, but the SQL uses '@cancellation_token'; rename the placeholder, or pass the value as a parameter of its own");

    /// <summary>Review helper-43: a char[] compiled clean, and Npgsql sent it as one text value ('= ANY(@letters)' failed with 42809).</summary>
    [Fact]
    public Task DBC0110_a_char_array_parameter() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE left(title, 1) = ANY(@letters)")]
            public partial Task<List<Todo>> ByLettersAsync(char[] [|letters|], CancellationToken cancellationToken = default);
        """),
        "DBC0110", DiagnosticSeverity.Error,
        "Parameter 'letters' of 'DatabaseSession.ByLettersAsync' cannot be bound: 'char[]' is sent by Npgsql as one text value, not as an array; pass a string[] (or a string)");

    // DBC0116 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public Task DBC0116_positional_placeholder() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id OR id = [|$1|] OR title = '$2' -- $3")]
            public partial Task<List<Todo>> FindAsync(long id, CancellationToken cancellationToken = default);
        """),
        "DBC0116", DiagnosticSeverity.Error,
        "The SQL of 'DatabaseSession.FindAsync' uses '$1', a positional placeholder; write '@name' with a method parameter of that name (DbCore numbers the placeholders itself, and '$1' would bind whichever parameter comes that far in its numbering)");

    [Fact]
    public Task DBC0110_unsupported_parameters() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE title = ANY(@filter)")]
            public partial Task<List<Todo>> FilterAsync(Dictionary<string, int> [|filter|], CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindAsync(ref long [|id|]);

            [Query("SELECT id, title, done FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken, CancellationToken [|other|]);

            [Query("SELECT id, title, done FROM todos WHERE id = ANY(@ids)")]
            public partial Task<List<Todo>> ManyAsync(params long[] [|ids|]);
        """),
        "DBC0110", DiagnosticSeverity.Error,
        "Parameter 'filter' of 'DatabaseSession.FilterAsync' cannot be bound: 'System.Collections.Generic.Dictionary<string, int>' is not a supported parameter type (primitives, string, decimal, Guid, date and time types, byte[], enums, arrays and lists of those, object)",
        "Parameter 'id' of 'DatabaseSession.FindAsync' cannot be bound: ref, out, in and params parameters cannot be bound; pass the value",
        "Parameter 'other' of 'DatabaseSession.ListAsync' cannot be bound: a query method takes at most one CancellationToken",
        "Parameter 'ids' of 'DatabaseSession.ManyAsync' cannot be bound: ref, out, in and params parameters cannot be bound; pass the value");

    // Valid sessions, name matching, what is not a placeholder ----------------------------------------------------------

    [Fact]
    public Task A_valid_session_with_several_queries_reports_nothing() => AssertCleanSessionAsync(Session("""
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos ORDER BY id")]
            public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos ORDER BY id")]
            public partial IAsyncEnumerable<Todo> StreamAsync(CancellationToken cancellationToken = default);

            [Query("INSERT INTO todos (title, done) VALUES (@title, @done) RETURNING id, title, done")]
            public partial Task<Todo> InsertAsync(string title, bool done, CancellationToken cancellationToken = default);

            [Query("SELECT id, title FROM todos")]
            public partial Task<TodoSummary[]> SummariesAsync(CancellationToken cancellationToken = default);

            [Query("SELECT count(*) FROM todos WHERE done = @done")]
            public partial ValueTask<long> CountAsync(bool done);

            [Query("DELETE FROM todos WHERE id = @id")]
            public partial Task<int> DeleteAsync(long id, CancellationToken cancellationToken = default);

            [Query("UPDATE todos SET title = @title WHERE id = @id")]
            public partial Task RenameAsync(long id, object? title, CancellationToken cancellationToken = default);
        """), queries: 8);

    [Fact]
    public Task Placeholders_bind_snake_case_and_case_insensitively() => AssertCleanSessionAsync(Session("""
            [Query("SELECT id, title, done FROM todos WHERE owner_id = @user_id AND title = @TITLE AND id > @After_Id")]
            public partial Task<List<Todo>> ByOwnerAsync(long userId, string title, long afterId, CancellationToken cancellationToken = default);
        """), queries: 1);

    [Fact]
    public Task Literals_comments_dollar_quotes_casts_and_operators_hold_no_placeholders() => AssertCleanSessionAsync(Session("""
            [Query(@"SELECT id, title, done FROM todos
                WHERE title <> 'mail@example.com' AND title <> E'it\'s @quoted' AND note = $$ @dollar $$ AND x = $tag$ @tagged $tag$
                  -- @line_comment
                  /* @block /* @nested */ @still_comment */
                  AND ""@quoted_identifier"" IS NOT NULL
                  AND tags <@other_tags AND tags @>ARRAY['b'] AND doc @@to_tsquery('x') AND path ^@x AND id = @id::bigint AND owner = @owner")]
            public partial Task<List<Todo>> SearchAsync(long id, long owner, CancellationToken cancellationToken = default);
        """), queries: 1);

    [Fact]
    public async Task Unterminated_quoted_identifier_does_not_throw()
    {
        (_, GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Session("""
                [Query("SELECT id, title, done FROM todos WHERE \"")]
                public partial Task<List<Todo>> BrokenAsync(CancellationToken cancellationToken = default);

                [Query("SELECT id, title, done FROM todos WHERE title = \"abc")]
                public partial Task<List<Todo>> BrokenTooAsync(CancellationToken cancellationToken = default);
            """));
        Assert.Empty(run.Diagnostics); // a generator that throws reports CS8785 here
        Assert.Empty(diagnostics);
    }

    // Stubs: an invalid method is one diagnostic, not a cascade -----------------------------------------------------------

    [Theory]
    [InlineData("DBC0101", """[Query("SELECT id, title, done FROM todos WHERE id = @id")] public partial Task<Todo?> BadAsync(CancellationToken cancellationToken = default);""")]
    [InlineData("DBC0103", """[Query($"SELECT id, title, done FROM {Table}")] public partial Task<List<Todo>> BadAsync(CancellationToken cancellationToken = default);""")]
    [InlineData("DBC0104", """[Query("SELECT id FROM todos")] public partial Task<Dictionary<string, object>> BadAsync();""")]
    [InlineData("DBC0104", """[Query("SELECT id FROM todos")] public partial string BadAsync();""")]
    [InlineData("DBC0104", """[Query("DELETE FROM todos")] partial void BadAsync();""")]
    [InlineData("DBC0105", """[Query("SELECT id FROM todos")] public partial Task<List<Todo>> BadAsync();""")]
    [InlineData("DBC0109", """[Query("SELECT id, title, done FROM todos")] public static partial Task<List<Todo>> BadAsync();""")]
    [InlineData("DBC0109", """[Query("SELECT id, title, done FROM todos")] public partial Task<List<T>> BadAsync<T>();""")]
    [InlineData("DBC0109", """[Query("SELECT id FROM todos")] public partial Task<List<T>> BadAsync<T, TKey>(TKey key) where T : class, System.IComparable<T>?, new() where TKey : struct;""")]
    [InlineData("DBC0109", """[Query("SELECT id FROM todos")] public partial Task<T?> BadAsync<T>() where T : notnull;""")]
    [InlineData("DBC0109", """[Query("SELECT id FROM todos")] public partial Task<int> BadAsync<T>(T value) where T : unmanaged;""")]
    [InlineData("DBC0109", """[Query("SELECT id FROM todos")] public partial Task<int> BadAsync<T>(T? value) where T : class?;""")]
    [InlineData("DBC0109", """[Query("SELECT id FROM todos")] public partial Task<int> BadAsync<T>() where T : allows ref struct;""")]
    [InlineData("DBC0110", """[Query("SELECT id, title, done FROM todos WHERE id = @id")] internal partial Task<Todo?> BadAsync(ref long id);""")]
    [InlineData("DBC0110", """[Query("SELECT id, title, done FROM todos WHERE id = @id")] public partial Task<Todo?> BadAsync(out long id);""")]
    [InlineData("DBC0110", """[Query("SELECT id, title, done FROM todos WHERE id = ANY(@ids)")] public partial Task<List<Todo>> BadAsync(params long[] ids);""")]
    [InlineData("DBC0110", """[Query("SELECT id, title, done FROM todos WHERE id = @id")] private partial Task<Todo?> BadAsync(System.IO.Stream id);""")]
    public async Task An_invalid_method_gets_a_throwing_stub_and_no_compiler_error(string id, string method)
    {
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(
            Session("private const string Table = \"todos\";\n" + method));
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Equal(id, d.Id));
        Diagnostic[] errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0, "The stub left compiler errors:\n" + string.Join("\n", errors.Select(d => d.ToString())));
        SyntaxTree stub = Assert.Single(output.SyntaxTrees, t => t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal));
        Assert.Contains("throw new global::System.InvalidOperationException(\"DbCore could not generate DatabaseSession.BadAsync", stub.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_method_outside_a_session_gets_a_stub_and_no_compiler_error()
    {
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Header + """
            public partial class TodoRepository
            {
                [Query("SELECT id, title, done FROM todos")]
                public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
            }

            public static partial class Outer
            {
                internal partial record Inner
                {
                    [Query("SELECT id, title, done FROM todos")]
                    internal partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);
                }
            }
            """);
        Assert.Equal(new[] { "DBC0109", "DBC0109" }, diagnostics.Select(d => d.Id));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        SyntaxTree[] stubs = output.SyntaxTrees.Where(t => t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, stubs.Length);
        Assert.All(stubs, t => Assert.Contains("could not generate", t.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_non_partial_method_gets_no_stub_and_no_compiler_error()
    {
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Session("""
                [Query("SELECT id, title, done FROM todos")]
                public Task<List<Todo>> ListAsync() => Task.FromResult(new List<Todo>());
            """));
        Assert.Equal("DBC0108", Assert.Single(diagnostics).Id);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.DoesNotContain(output.SyntaxTrees, t => t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[DatabaseSettings]", "Data Source=app.db")]
    [InlineData("[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]", "Host=localhost;Database=app")]
    [InlineData("[DatabaseSettings(Provider = DatabaseProvider.Sqlite)]", "Data Source=app.db")]
    public Task Nullable_scalar_rows_and_a_parameter_named_underscore_compile_in_every_provider_mode(string settings, string connectionString)
        // Review of b3f12b1: a list or stream of a nullable scalar declared its rows 'long??' (CS1519), and the generated
        // re-read's '_ = ...' assigned to a parameter named '_' (CS0029). Both compile now, with no diagnostic.
        => AssertCleanSessionAsync(Session("""
            [Query("SELECT max(id) FROM todos GROUP BY done")]
            public partial Task<List<long?>> MaxIdsAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id FROM todos")]
            public partial IAsyncEnumerable<uint?> StreamIdsAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id FROM todos")]
            public partial Task<ulong?[]> IdArrayAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE id > @_")]
            public partial Task<List<Todo>> AfterAsync(long _, CancellationToken cancellationToken = default);
        """).Replace("[DatabaseSettings]", settings, StringComparison.Ordinal).Replace("Data Source=app.db", connectionString, StringComparison.Ordinal), queries: 4);

    /// <summary>
    /// No DBC diagnostic, a warning-free compile, and a real implementation (not a stub) for each of the
    /// <paramref name="queries"/> methods. (<see cref="AnalyzerHarness.AssertCleanAsync"/> counts settings files only.)
    /// </summary>
    private static async Task AssertCleanSessionAsync(string source, int queries)
    {
        (Compilation output, GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(source);
        Assert.True(diagnostics.IsEmpty, "Unexpected diagnostics:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));
        SyntaxTree[] generated = run.GeneratedTrees.Where(t => t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal)).ToArray();
        Assert.Equal(queries, generated.Length);
        Assert.All(generated, t => Assert.DoesNotContain("could not generate", t.ToString(), StringComparison.Ordinal));
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    [Fact]
    public Task DBC0110_parameter_names_reserved_for_the_generated_code() => AnalyzerHarness.AssertDiagnosticsAsync(
        Session("""
            [Query("SELECT id, title, done FROM todos WHERE title = @__sql")]
            public partial Task<List<Todo>> ByTitleAsync(string [|__sql|], CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos")]
            public partial Task<List<Todo>> ListAsync(CancellationToken [|__reader|]);
        """),
        "DBC0110", DiagnosticSeverity.Error,
        "Parameter '__sql' of 'DatabaseSession.ByTitleAsync' cannot be bound: names starting with '__' are reserved for the generated code; rename the parameter (and its placeholder)",
        "Parameter '__reader' of 'DatabaseSession.ListAsync' cannot be bound: names starting with '__' are reserved for the generated code; rename the parameter (and its placeholder)");

    // Signatures the generated code must compile for ------------------------------------------------------------------

    [Fact]
    public async Task Overloads_of_one_query_name_are_each_generated()
    {
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Session("""
                [Query("SELECT id, title, done FROM todos WHERE id = @id")]
                public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

                [Query("SELECT id, title, done FROM todos WHERE title = @title")]
                public partial Task<Todo?> FindAsync(string title, CancellationToken cancellationToken = default);
            """));
        Assert.Empty(diagnostics);
        Assert.Equal(2, output.SyntaxTrees.Count(t => t.FilePath.Contains(".FindAsync.", StringComparison.Ordinal) && t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal)));
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    [Fact]
    public async Task A_nullable_annotated_task_return_is_generated()
    {
        // Task<T>? is Task<T> with a nullable annotation: the method's body must not become a Nullable<ValueTask<T>>.
        (Compilation output, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(Session("""
                [Query("SELECT count(*) FROM todos")]
                public partial Task<long>? CountAsync(CancellationToken cancellationToken = default);

                [Query("DELETE FROM todos WHERE id = @id")]
                public partial Task? DeleteAsync(long id, CancellationToken cancellationToken = default);
            """));
        Assert.Empty(diagnostics);
        AssertImplemented(output, "CountAsync");
        AssertImplemented(output, "DeleteAsync");
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }

    private static void AssertImplemented(Compilation output, string method)
    {
        SyntaxTree tree = Assert.Single(output.SyntaxTrees, t => t.FilePath.Contains("." + method + ".", StringComparison.Ordinal) && t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal));
        Assert.Contains("await OpenForStatementAsync(", tree.ToString(), StringComparison.Ordinal); // a real body, not the stub
        Assert.DoesNotContain("could not generate", tree.ToString(), StringComparison.Ordinal);
    }
}
