using DbCore;

namespace TodoApi;

/// <summary>A todo item.</summary>
/// <param name="Id">The generated id.</param>
/// <param name="Title">What to do.</param>
/// <param name="Done">Whether it is done.</param>
public sealed record Todo(long Id, string Title, bool Done);

/// <summary>The body of POST and PUT.</summary>
/// <param name="Title">What to do.</param>
/// <param name="Done">Whether it is done.</param>
public sealed record TodoInput(string Title, bool Done = false);

/// <summary>
/// The SQL of the sample, as typed queries on the generated session: DbCore generates each method (command, parameters,
/// reading the row by column name, typed errors). Written once for SQLite and PostgreSQL: both accept <c>@name</c>
/// parameters and RETURNING. Writes are not committed here: the caller commits.
/// </summary>
public partial class DatabaseSession
{
    /// <summary>Creates the <c>todos</c> table on SQLite when it does not exist.</summary>
    [Query("CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT 0)")]
    public partial Task CreateSqliteSchemaAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates the <c>todos</c> table on PostgreSQL when it does not exist.</summary>
    [Query("CREATE TABLE IF NOT EXISTS todos (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE)")]
    public partial Task CreatePostgreSqlSchemaAsync(CancellationToken cancellationToken = default);

    /// <summary>All todos, oldest first.</summary>
    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> ListTodosAsync(CancellationToken cancellationToken = default);

    /// <summary>One todo, or null.</summary>
    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial Task<Todo?> FindTodoAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Inserts a todo and returns it with its id.</summary>
    [Query("INSERT INTO todos (title, done) VALUES (@title, @done) RETURNING id, title, done")]
    public partial Task<Todo> InsertTodoAsync(string title, bool done, CancellationToken cancellationToken = default);

    /// <summary>Updates a todo; null when it does not exist.</summary>
    [Query("UPDATE todos SET title = @title, done = @done WHERE id = @id RETURNING id, title, done")]
    public partial Task<Todo?> UpdateTodoAsync(long id, string title, bool done, CancellationToken cancellationToken = default);

    /// <summary>Deletes a todo; the number of rows deleted (0 when it does not exist).</summary>
    [Query("DELETE FROM todos WHERE id = @id")]
    public partial Task<int> DeleteTodoAsync(long id, CancellationToken cancellationToken = default);
}
