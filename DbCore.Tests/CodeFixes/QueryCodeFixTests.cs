extern alias codefixes;

using codefixes::DbCore.CodeFixes;

namespace DbCore.Tests.CodeFixes;

/// <summary>The [Query] fixes (DBC0101, DBC0108) applied through a real workspace: the resulting text, and no DBC diagnostic left.</summary>
public sealed class QueryCodeFixTests
{
    private const string Header = Diagnostics.QueryDiagnosticTests.Header;

    // DBC0108 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task DBC0108_adds_partial_and_removes_a_block_body()
    {
        string result = await CodeFixHarness.ApplyAsync(new MakeQueryMethodPartialCodeFixProvider(), Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT count(*) FROM todos")]
                public async Task<long> CountAsync(CancellationToken cancellationToken = default)
                {
                    await Task.Yield();
                    return 0;
                }

                public void Other() { }
            }
            """, "DBC0108");

        Assert.Equal(Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT count(*) FROM todos")]
                public partial Task<long> CountAsync(CancellationToken cancellationToken = default);

                public void Other() { }
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0108_fix_all_handles_expression_bodies_no_modifiers_and_the_class()
    {
        const string source = Header + """
            public class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public Task<List<Todo>> ListAsync() => Task.FromResult(new List<Todo>());

                [Query("SELECT id, title, done FROM todos WHERE id = @id")]
                internal Task<Todo?> FindAsync(long id);
            }
            """;
        const string expected = Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public partial Task<List<Todo>> ListAsync();

                [Query("SELECT id, title, done FROM todos WHERE id = @id")]
                internal partial Task<Todo?> FindAsync(long id);
            }
            """;

        string result = await CodeFixHarness.ApplyAsync(new MakeQueryMethodPartialCodeFixProvider(), source, "DBC0108", fixAll: true);
        Assert.Equal(expected, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0108_title()
        => Assert.Equal(new[] { "Make the method partial" }, await CodeFixHarness.TitlesAsync(new MakeQueryMethodPartialCodeFixProvider(), Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos")]
                public Task<List<Todo>> ListAsync() => Task.FromResult(new List<Todo>());
            }
            """, "DBC0108"));

    // DBC0101 ---------------------------------------------------------------------------------------------------------

    [Fact]
    public async Task DBC0101_adds_an_object_parameter_before_the_cancellation_token()
    {
        const string source = Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos WHERE owner_id = @user_id")]
                public partial Task<List<Todo>> ByOwnerAsync(CancellationToken cancellationToken = default);
            }
            """;
        Assert.Equal(new[] { "Add parameter 'userId'" }, await CodeFixHarness.TitlesAsync(new AddQueryParameterCodeFixProvider(), source, "DBC0101"));

        string result = await CodeFixHarness.ApplyAsync(new AddQueryParameterCodeFixProvider(), source, "DBC0101");
        Assert.Equal(Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos WHERE owner_id = @user_id")]
                public partial Task<List<Todo>> ByOwnerAsync(object? userId, CancellationToken cancellationToken = default);
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0101_adds_the_parameter_last_and_escapes_keywords()
    {
        string result = await CodeFixHarness.ApplyAsync(new AddQueryParameterCodeFixProvider(), Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos WHERE done = @done AND kind = @class")]
                public partial Task<List<Todo>> ListAsync(bool done);
            }
            """, "DBC0101");

        Assert.Equal(Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos WHERE done = @done AND kind = @class")]
                public partial Task<List<Todo>> ListAsync(bool done, object? @class);
            }
            """, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0101_fix_all_adds_each_placeholder_once_keeping_one_parameter_a_line()
    {
        const string source = Header + """
            public partial class DatabaseSession
            {
                private const string SearchSql = "SELECT id, title, done FROM todos WHERE id > @after AND title = @title AND @title <> ''";

                [Query("SELECT id, title, done FROM todos WHERE title = @title AND id > @after ORDER BY id LIMIT @limit")]
                public partial Task<List<Todo>> PageAsync(
                    long limit,
                    CancellationToken cancellationToken = default);

                [Query(SearchSql)]
                public partial Task<List<Todo>> SearchAsync();
            }
            """;
        const string expected = Header + """
            public partial class DatabaseSession
            {
                private const string SearchSql = "SELECT id, title, done FROM todos WHERE id > @after AND title = @title AND @title <> ''";

                [Query("SELECT id, title, done FROM todos WHERE title = @title AND id > @after ORDER BY id LIMIT @limit")]
                public partial Task<List<Todo>> PageAsync(
                    long limit,
                    object? title,
                    object? after,
                    CancellationToken cancellationToken = default);

                [Query(SearchSql)]
                public partial Task<List<Todo>> SearchAsync(object? after, object? title);
            }
            """;

        string result = await CodeFixHarness.ApplyAsync(new AddQueryParameterCodeFixProvider(), source, "DBC0101", fixAll: true);
        Assert.Equal(expected, result);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }

    [Fact]
    public async Task DBC0101_keeps_optional_parameters_last()
    {
        string result = await CodeFixHarness.ApplyAsync(new AddQueryParameterCodeFixProvider(), Header + """
            public partial class DatabaseSession
            {
                [Query("SELECT id, title, done FROM todos WHERE done = @done AND id > @after")]
                public partial Task<List<Todo>> ListAsync(bool done = false);
            }
            """, "DBC0101");

        Assert.Contains("ListAsync(object? after, bool done = false);", result, StringComparison.Ordinal);
        await CodeFixHarness.AssertNoDiagnosticAsync(result);
    }
}
