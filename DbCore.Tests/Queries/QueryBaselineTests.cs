using DbCore.Tests.Generator;

namespace DbCore.Tests.Queries;

/// <summary>The code generated for [Query] methods, one baseline per provider mode and return shape family.</summary>
public sealed class QueryBaselineTests
{
    private const string Rows = """
        public sealed record Todo(long Id, string Title, bool Done);

        public sealed class TodoSummary
        {
            public required long Id { get; init; }
            public string? Title { get; set; }
            public System.DateTimeOffset? DueAt { get; set; }
        }

        public enum Priority { Low, High }

        public sealed record Ranked(long Id, string Title, int Rank = -1, Priority Level = Priority.High, string? Note = null);

        public enum Flags : ulong { None = 0, High = 1UL << 62 }
        """;

    private const string Methods = """
            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindTodoAsync(long id, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE id = @id")]
            public partial ValueTask<Todo> GetTodoAsync(long id, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos WHERE done = @done ORDER BY id")]
            public partial Task<List<Todo>> ListTodosAsync(bool done, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, due_at FROM todos ORDER BY id")]
            public partial Task<IReadOnlyList<TodoSummary>> ListSummariesAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, title FROM todos WHERE priority = @priority")]
            public partial Task<(long Id, string Title)[]> ByPriorityAsync(Priority priority, CancellationToken cancellationToken = default);

            [Query("SELECT id, title, done FROM todos ORDER BY id")]
            public partial IAsyncEnumerable<Todo> StreamTodosAsync(CancellationToken cancellationToken = default);

            [Query("SELECT id, title, rank FROM todos ORDER BY id")]
            public partial Task<List<Ranked>> RankedAsync(CancellationToken cancellationToken = default);

            [Query("SELECT count(*) FROM todos WHERE title = @title")]
            public partial Task<long> CountAsync(string title, CancellationToken cancellationToken = default);

            [Query("SELECT title FROM todos WHERE id = @id")]
            public partial Task<string?> FindTitleAsync(long id, CancellationToken cancellationToken = default);

            [Query("INSERT INTO todos (title, done) VALUES (@title, @done) RETURNING id, title, done")]
            public partial Task<Todo> InsertTodoAsync(string title, bool done, CancellationToken cancellationToken = default);

            [Query("DELETE FROM todos WHERE id = @id")]
            public partial Task<int> DeleteTodoAsync(long id, CancellationToken cancellationToken = default);

            [Query("UPDATE todos SET title = @title, due_at = @due_at WHERE id = @id")]
            public partial Task RenameAsync(long id, string? title, System.DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

            [Query("SELECT id, priority FROM todos WHERE id > @after AND priority <= @most ORDER BY id")]
            public partial Task<List<(uint Id, Priority Priority)>> AfterAsync(ulong after, ushort? most, CancellationToken cancellationToken = default);

            [Query("SELECT flags FROM todos WHERE id = @id AND flags <> @without")]
            public partial Task<Flags?> FindFlagsAsync(long id, Flags without, CancellationToken cancellationToken = default);
        """;

    [Fact]
    public Task Provider_chosen_at_run_time() => GeneratorHarness.VerifyQueriesAgainstBaseline(
        Source("[DatabaseSettings]", "Data Source=app.db"), "Queries.Auto.g.cs");

    [Fact]
    public Task Pinned_postgresql() => GeneratorHarness.VerifyQueriesAgainstBaseline(
        Source("[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]", "Host=localhost;Database=app;Username=app")
            + """

            namespace App
            {
                public partial class DatabaseSession
                {
                    [Query("SELECT id, title, done FROM todos WHERE id = ANY(@ids) ORDER BY id")]
                    public partial Task<List<Todo>> ListByIdsAsync(long[] ids, CancellationToken cancellationToken = default);

                    [Query("SELECT id, title, done FROM todos WHERE priority = ANY(@priorities) ORDER BY id")]
                    public partial Task<List<Todo>> ListByPrioritiesAsync(List<Priority> priorities, CancellationToken cancellationToken = default);

                    [Query("SELECT id, title, done FROM todos WHERE flags = ANY(@flags) ORDER BY id")]
                    public partial Task<List<Todo>> ListByFlagsAsync(List<Flags> flags, CancellationToken cancellationToken = default);
                }
            }
            """,
        "Queries.PostgreSql.g.cs");

    [Fact]
    public Task Pinned_sqlite() => GeneratorHarness.VerifyQueriesAgainstBaseline(
        Source("[DatabaseSettings(Provider = DatabaseProvider.Sqlite)]", "Data Source=app.db"), "Queries.Sqlite.g.cs");

    internal static string Source(string settingsAttribute, string connectionString) => $$"""
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using DbCore;

        namespace App
        {
            {{settingsAttribute}}
            public partial class DatabaseSettings
            {
                [ConnectionString] public string ConnectionString { get; set; } = "{{connectionString}}";
            }

        {{Indent(Rows)}}

            public partial class DatabaseSession
            {
        {{Indent(Methods)}}
            }
        }
        """;

    private static string Indent(string text) => string.Join("\n", text.Split('\n').Select(l => l.Length == 0 ? l : "    " + l));
}
