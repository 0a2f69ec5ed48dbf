using System.Data.Common;
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

/// <summary>The SQL of the sample, written once for SQLite and PostgreSQL (both accept <c>@name</c> parameters and RETURNING).</summary>
public static class TodoStore
{
    /// <summary>Creates the <c>todos</c> table when it does not exist.</summary>
    public static Task EnsureSchemaAsync(Database db, CancellationToken cancellationToken = default)
    {
        string ddl = db.Provider == DatabaseProvider.PostgreSql
            ? "CREATE TABLE IF NOT EXISTS todos (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE)"
            : "CREATE TABLE IF NOT EXISTS todos (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT 0)";
        return db.ExecuteAsync(async (session, ct) =>
        {
            await using DbCommand command = session.CreateCommand(ddl);
            await command.ExecuteNonQueryAsync(ct);
        }, cancellationToken);
    }

    /// <summary>All todos, oldest first.</summary>
    public static async Task<List<Todo>> ListAsync(DatabaseSession session, CancellationToken ct)
    {
        await using DbCommand command = session.CreateCommand("SELECT id, title, done FROM todos ORDER BY id");
        await using DbDataReader reader = await command.ExecuteReaderAsync(ct);
        var todos = new List<Todo>();
        while (await reader.ReadAsync(ct))
        {
            todos.Add(Read(reader));
        }

        return todos;
    }

    /// <summary>One todo, or null.</summary>
    public static async Task<Todo?> FindAsync(DatabaseSession session, long id, CancellationToken ct)
    {
        await using DbCommand command = session.CreateCommand("SELECT id, title, done FROM todos WHERE id = @id");
        AddParameter(command, "id", id);
        return await ReadSingleAsync(command, ct);
    }

    /// <summary>Inserts a todo (not committed: the caller commits).</summary>
    public static async Task<Todo> InsertAsync(DatabaseSession session, string title, bool done, CancellationToken ct)
    {
        await using DbCommand command = session.CreateCommand("INSERT INTO todos (title, done) VALUES (@title, @done) RETURNING id, title, done");
        AddParameter(command, "title", title);
        AddParameter(command, "done", done);
        return (await ReadSingleAsync(command, ct))!;
    }

    /// <summary>Updates a todo; null when it does not exist (not committed: the caller commits).</summary>
    public static async Task<Todo?> UpdateAsync(DatabaseSession session, long id, string title, bool done, CancellationToken ct)
    {
        await using DbCommand command = session.CreateCommand("UPDATE todos SET title = @title, done = @done WHERE id = @id RETURNING id, title, done");
        AddParameter(command, "id", id);
        AddParameter(command, "title", title);
        AddParameter(command, "done", done);
        return await ReadSingleAsync(command, ct);
    }

    /// <summary>Deletes a todo; false when it does not exist (not committed: the caller commits).</summary>
    public static async Task<bool> DeleteAsync(DatabaseSession session, long id, CancellationToken ct)
    {
        await using DbCommand command = session.CreateCommand("DELETE FROM todos WHERE id = @id");
        AddParameter(command, "id", id);
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    private static async Task<Todo?> ReadSingleAsync(DbCommand command, CancellationToken ct)
    {
        await using DbDataReader reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    private static Todo Read(DbDataReader reader) => new(reader.GetInt64(0), reader.GetString(1), reader.GetBoolean(2));

    private static void AddParameter(DbCommand command, string name, object value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
