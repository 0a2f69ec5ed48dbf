namespace DbCore.Tests.Queries;

/// <summary>The <c>todos</c> table the typed-query sessions (<see cref="QueryAnySession"/>, <see cref="QueryPgSession"/>) read, per provider.</summary>
internal static class TodoSchema
{
    public const string Sqlite = """
        CREATE TABLE todos (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL UNIQUE,
            done BOOLEAN NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            due_at TEXT NULL)
        """;

    public const string PostgreSql = """
        CREATE TABLE todos (
            id BIGSERIAL PRIMARY KEY,
            title TEXT NOT NULL UNIQUE,
            done BOOLEAN NOT NULL,
            priority INTEGER NOT NULL DEFAULT 0,
            due_at TIMESTAMPTZ NULL)
        """;

    /// <summary>Runs <paramref name="schema"/> in one unit of work of <paramref name="db"/> and returns it.</summary>
    public static async Task<TAccessor> CreateAsync<TAccessor, TSession>(TAccessor db, string schema)
        where TAccessor : DatabaseAccessor<TSession>
        where TSession : DbSession
    {
        await db.ExecuteAsync(async (session, ct) =>
        {
            await using var command = session.CreateCommand(schema);
            await command.ExecuteNonQueryAsync(ct);
        });
        return db;
    }

    /// <summary><see cref="CreateAsync{TAccessor, TSession}"/> for the provider-neutral test accessor.</summary>
    public static Task<QueryAny> CreateAsync(QueryAny db, string schema) => CreateAsync<QueryAny, QueryAnySession>(db, schema);
}
