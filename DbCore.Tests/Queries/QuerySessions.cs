using DbCore;

namespace DbCore.Tests.Queries;

public sealed record Todo(long Id, string Title, bool Done);

/// <summary>
/// Constructor parameters with default values are optional: a result with no column of their name gives the default
/// (of every kind a C# default can be: negative numbers, NaN, decimal, enum, string, null).
/// </summary>
public sealed record TodoWithDefaults(
    long Id,
    string Title,
    [System.Runtime.InteropServices.Optional, System.Runtime.CompilerServices.DateTimeConstant(630822816000000000)] DateTime Since,
    bool Done = true,
    int Rank = -3,
    string? Note = "none",
    Priority Priority = Priority.High,
    decimal Weight = 1.25m,
    double Ratio = double.NaN,
    DateTimeOffset? DueAt = null,
    long Big = long.MinValue);

/// <summary>A PostgreSQL array column into an array member.</summary>
public sealed record IdList(long[]? Ids);

/// <summary>Enums over unsigned types (PostgreSQL has none: bound and read as the signed type that holds their values).</summary>
public enum Level : uint
{
    None = 0,
    Mid = 2_000_000_000,
    Top = 4_000_000_000,
}

public enum Mask : ulong
{
    None = 0,
    High = 1UL << 62,
}

public enum Small : ushort
{
    None = 0,
    Mid = 30_000,
    Max = ushort.MaxValue,
}

public enum Tiny : byte
{
    None = 0,
    Max = byte.MaxValue,
}

public sealed record LevelLists(List<Mask>? Masks, Small?[]? Smalls);

/// <summary>An enum over <see langword="sbyte"/>: bound as <c>smallint</c>, read with an overflow check.</summary>
public enum Signed : sbyte
{
    Min = sbyte.MinValue,
    None = 0,
    Max = sbyte.MaxValue,
}

public sealed record SignedList(List<Signed?>? Vals);

public enum Priority
{
    Low = 0,
    High = 1,
}

/// <summary>A class row: a required member, an optional one, snake_case columns, an enum.</summary>
public sealed class TodoDetails
{
    public required long Id { get; init; }

    public string? Title { get; set; }

    public DateTimeOffset? DueAt { get; set; }

    public Priority Priority { get; set; }

    public string Untouched { get; set; } = "default";
}

/// <summary>The PostgreSQL array queries of enums and unsigned integers that <see cref="QueryArraysSession"/> (provider chosen at run time) and <see cref="QueryPgSession"/> (pinned) both declare.</summary>
public interface IArrayQueries
{
    Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    Task<List<Todo>> ByPrioritiesAsync(Priority[] priorities, CancellationToken cancellationToken = default);

    Task<List<Todo>> ByPriorityListAsync(List<Priority?> priorities, uint[] ids, CancellationToken cancellationToken = default);

    Task<PriorityArrays> PriorityArraysAsync(CancellationToken cancellationToken = default);

    Task<LevelLists> LevelListsAsync(List<Mask> masks, Small?[] smalls, CancellationToken cancellationToken = default);

    Task<long> CountTiniesAsync(Tiny[] tinies, CancellationToken cancellationToken = default);

    Task<SignedList> SignedListAsync(Signed?[] vals, CancellationToken cancellationToken = default);

    Task<long> CountTitlesAsync(string?[] titles, CancellationToken cancellationToken = default);

    Task<long> CountTitleListAsync(List<string?> titles, CancellationToken cancellationToken = default);

    Task<long> CountIdsInObjectAsync(object ids, CancellationToken cancellationToken = default);
}

/// <summary>Provider chosen at run time, for the PostgreSQL-only array queries of <see cref="IArrayQueries"/>.</summary>
[DatabaseSettings(Name = "QueryArrays")]
public partial class QueryArraysSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=app";
}

public partial class QueryArraysSession : IArrayQueries
{
    [Query("INSERT INTO todos (title, done, priority, due_at) VALUES (@title, @done, @priority, @due_at) RETURNING id, title, done")]
    public partial Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    // Enum and unsigned collections (PostgreSQL arrays of the underlying or signed type).
    [Query("SELECT id, title, done FROM todos WHERE priority = ANY(@priorities) ORDER BY id")]
    public partial Task<List<Todo>> ByPrioritiesAsync(Priority[] priorities, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE priority = ANY(@priorities) AND id = ANY(@ids) ORDER BY id")]
    public partial Task<List<Todo>> ByPriorityListAsync(List<Priority?> priorities, uint[] ids, CancellationToken cancellationToken = default);

    [Query("SELECT array_agg(priority ORDER BY id) AS priorities, array_agg(id ORDER BY id) AS ids FROM todos")]
    public partial Task<PriorityArrays> PriorityArraysAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST(@masks AS bigint[]) AS masks, CAST(@smalls AS smallint[]) AS smalls")]
    public partial Task<LevelLists> LevelListsAsync(List<Mask> masks, Small?[] smalls, CancellationToken cancellationToken = default);

    // A byte enum's array goes as smallint[] (as byte[] it would be bytea).
    [Query("SELECT count(*) FROM unnest(CAST(@tinies AS smallint[])) AS t(v) WHERE v > 0")]
    public partial Task<long> CountTiniesAsync(Tiny[] tinies, CancellationToken cancellationToken = default);

    // An sbyte enum's array goes as smallint[], and reads back with an overflow check per element.
    [Query("SELECT CAST(@vals AS smallint[]) AS vals")]
    public partial Task<SignedList> SignedListAsync(Signed?[] vals, CancellationToken cancellationToken = default);

    // Nullable reference elements (NULLs in a text[]): the generated parameter keeps the element's annotation.
    [Query("SELECT count(*) FROM todos WHERE title = ANY(@titles)")]
    public partial Task<long> CountTitlesAsync(string?[] titles, CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE title = ANY(@titles)")]
    public partial Task<long> CountTitleListAsync(List<string?> titles, CancellationToken cancellationToken = default);

    // An array inside an object parameter is passed as it is (a PostgreSQL array).
    [Query("SELECT count(*) FROM todos WHERE id = ANY(@ids)")]
    public partial Task<long> CountIdsInObjectAsync(object ids, CancellationToken cancellationToken = default);
}

/// <summary>PostgreSQL arrays read into collections of enums and unsigned integers.</summary>
public sealed record PriorityArrays(Priority[]? Priorities, List<ulong>? Ids);

/// <summary>Provider chosen at run time: the same methods run on SQLite and PostgreSQL.</summary>
[DatabaseSettings(Name = "QueryAny")]
public partial class QueryAnySettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

/// <summary>Pinned to PostgreSQL: typed parameters, positional SQL, arrays.</summary>
[DatabaseSettings(Provider = DatabaseProvider.PostgreSql, Name = "QueryPg")]
public partial class QueryPgSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Host=127.0.0.1;Database=app";
}

/// <summary>
/// The typed queries every provider's test session declares (<see cref="QueryAnySession"/>, <see cref="QuerySqliteSession"/>),
/// so one set of runtime tests runs the generated code of each: the provider-neutral one and the SQLite-pinned one.
/// </summary>
public interface ITodoQueries
{
    Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

    ValueTask<Todo> GetAsync(long id, CancellationToken cancellationToken = default);

    Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

    Task<Todo[]> ListByDoneAsync(bool done, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<TodoDetails>> DetailsAsync(CancellationToken cancellationToken = default);

    Task<List<(long Id, string Title)>> ByPriorityAsync(Priority priority, CancellationToken cancellationToken = default);

    IAsyncEnumerable<Todo> StreamAsync(CancellationToken cancellationToken = default);

    Task<long> CountAsync(string title, CancellationToken cancellationToken = default);

    Task<long> ContainingAsync(string part, CancellationToken cancellationToken = default);

    Task<string?> TitleAsync(long id, CancellationToken cancellationToken = default);

    Task<int> RenameAsync(long id, string? title, CancellationToken cancellationToken = default);

    Task DeleteAsync(long id, CancellationToken cancellationToken = default);

    Task<List<Todo>> WithoutDoneAsync(CancellationToken cancellationToken = default);

    Task<Todo> FirstOfManyAsync(CancellationToken cancellationToken = default);

    Task<List<Todo>> NullDoneAsync(CancellationToken cancellationToken = default);

    Task<long> MaxNegativeIdAsync(CancellationToken cancellationToken = default);

    Task<List<(ulong Id, uint Priority)>> UnsignedAsync(ulong after, uint? most, ushort priority, CancellationToken cancellationToken = default);

    Task<(Level Level, Mask? Mask, Small Small)> UnsignedEnumsAsync(Level level, Mask? mask, Small small, CancellationToken cancellationToken = default);

    Task<bool> IsAboveIntMaxAsync(Level level, CancellationToken cancellationToken = default);

    Task<Level> NegativeLevelAsync(CancellationToken cancellationToken = default);

    Task<long> CountByObjectAsync(object priority, CancellationToken cancellationToken = default);

    Task<uint> MinusOneAsync(CancellationToken cancellationToken = default);

    Task<(sbyte Value, sbyte? Maybe, Signed Level)> SignedBytesAsync(sbyte value, sbyte? maybe, Signed level, CancellationToken cancellationToken = default);

    Task<Signed> TooLargeSignedAsync(CancellationToken cancellationToken = default);

    Task<long> CountThenFailingInsertAsync(CancellationToken cancellationToken = default);

    Task SelectThenFailingInsertAsync(CancellationToken cancellationToken = default);

    Task<int> RowsThenFailingInsertAsync(CancellationToken cancellationToken = default);

    IAsyncEnumerable<long> StreamThenFailingInsertAsync(CancellationToken cancellationToken = default);

    Task<int> SelectThenInsertAsync(string title, CancellationToken cancellationToken = default);

    Task<List<(long Id, Guid Title)>> TitleAsGuidAsync(CancellationToken cancellationToken = default);

    Task<List<TodoWithDefaults>> WithDefaultsAsync(CancellationToken cancellationToken = default);

    Task<List<TodoWithDefaults>> WithDefaultsMatchedByNameAsync(CancellationToken cancellationToken = default);
}

/// <summary>Pinned to SQLite: the generated code calls Microsoft.Data.Sqlite's synchronous API (what its async API runs).</summary>
[DatabaseSettings(Provider = DatabaseProvider.Sqlite, Name = "QuerySqlite")]
public partial class QuerySqliteSettings
{
    [ConnectionString]
    public string ConnectionString { get; set; } = "Data Source=:memory:";
}

public partial class QueryAnySession : ITodoQueries
{
    [Query("INSERT INTO todos (title, done, priority, due_at) VALUES (@title, @done, @priority, @due_at) RETURNING id, title, done")]
    public partial Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial ValueTask<Todo> GetAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE done = @done ORDER BY id")]
    public partial Task<Todo[]> ListByDoneAsync(bool done, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, due_at, priority FROM todos ORDER BY id")]
    public partial Task<IReadOnlyList<TodoDetails>> DetailsAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title FROM todos WHERE priority = @priority ORDER BY id")]
    public partial Task<List<(long Id, string Title)>> ByPriorityAsync(Priority priority, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial IAsyncEnumerable<Todo> StreamAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE title = @title")]
    public partial Task<long> CountAsync(string title, CancellationToken cancellationToken = default);

    // The only use of the placeholder is glued to '||' (the usual LIKE pattern).
    [Query("SELECT count(*) FROM todos WHERE title LIKE '%'||@part||'%'")]
    public partial Task<long> ContainingAsync(string part, CancellationToken cancellationToken = default);

    [Query("SELECT title FROM todos WHERE id = @id")]
    public partial Task<string?> TitleAsync(long id, CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET title = @title WHERE id = @id")]
    public partial Task<int> RenameAsync(long id, string? title, CancellationToken cancellationToken = default);

    [Query("DELETE FROM todos WHERE id = @id")]
    public partial Task DeleteAsync(long id, CancellationToken cancellationToken = default);

    // Not statically readable (WITH): the columns are checked when the query runs.
    [Query("WITH t AS (SELECT id, title FROM todos) SELECT id, title FROM t ORDER BY id")]
    public partial Task<List<Todo>> WithoutDoneAsync(CancellationToken cancellationToken = default);

    [Query("WITH t AS (SELECT id, title, done FROM todos) SELECT id, title, done FROM t ORDER BY id")]
    public partial Task<Todo> FirstOfManyAsync(CancellationToken cancellationToken = default);

    // A NULL into the non-nullable bool Done (a value type: read without an IsDBNull check; the typed error still names it).
    [Query("SELECT id, title, CASE WHEN id > 0 THEN NULL ELSE done END AS done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> NullDoneAsync(CancellationToken cancellationToken = default);

    // The same through a NULL scalar into Task<long>.
    [Query("SELECT max(id) FROM todos WHERE id < 0")]
    public partial Task<long> MaxNegativeIdAsync(CancellationToken cancellationToken = default);

    // Unsigned parameters and members (PostgreSQL has no unsigned types: bound and read as the signed type that holds them;
    // bigint into ulong and integer into uint, as VerifyQueriesAsync accepts).
    [Query("SELECT id, priority FROM todos WHERE id > @after AND id <= @most AND priority = @priority ORDER BY id")]
    public partial Task<List<(ulong Id, uint Priority)>> UnsignedAsync(ulong after, uint? most, ushort priority, CancellationToken cancellationToken = default);

    // Enums over unsigned types, bound as the signed type that holds them (uint and ulong as bigint, ushort as integer) and
    // read from the columns VerifyQueriesAsync accepts for them (as for uint, ulong and ushort); a value the enum's type
    // cannot hold is a typed error (NegativeLevelAsync, wrong on purpose: -1 into a uint-backed enum).
    [Query("SELECT CAST(@level AS integer) AS \"level!\", CAST(@mask AS bigint) AS mask, CAST(@small AS smallint) AS \"small!\"")]
    public partial Task<(Level Level, Mask? Mask, Small Small)> UnsignedEnumsAsync(Level level, Mask? mask, Small small, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(@level AS bigint) > 2147483647 AS \"above!\"")]
    public partial Task<bool> IsAboveIntMaxAsync(Level level, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(-1 AS bigint) AS level")]
    public partial Task<Level> NegativeLevelAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE priority = @priority")]
    public partial Task<long> CountByObjectAsync(object priority, CancellationToken cancellationToken = default);

    // A value the member's type cannot hold, and a column of another type: typed errors naming the column.
    [Query("SELECT -1 AS minus_one")]
    public partial Task<uint> MinusOneAsync(CancellationToken cancellationToken = default);

    // sbyte and an enum over it, bound as smallint and read with an overflow check (200 does not fit: a typed error).
    [Query("SELECT CAST(@value AS smallint) AS \"value!\", CAST(@maybe AS smallint) AS maybe, CAST(@level AS smallint) AS \"level!\"")]
    public partial Task<(sbyte Value, sbyte? Maybe, Signed Level)> SignedBytesAsync(sbyte value, sbyte? maybe, Signed level, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(200 AS smallint) AS \"level!\"")]
    public partial Task<Signed> TooLargeSignedAsync(CancellationToken cancellationToken = default);

    // Several statements: an error in one after the statement read is the method's typed error (on SQLite it used to be
    // dropped: Microsoft.Data.Sqlite's reader and ExecuteNonQuery run the later statements without raising their errors).
    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task<long> CountThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task SelectThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET done = done WHERE id < 0; SELECT 1; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task<int> RowsThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial IAsyncEnumerable<long> StreamThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET done = done WHERE id < 0; SELECT 1; INSERT INTO todos (title, done, priority) VALUES (@title, FALSE, 0)")]
    public partial Task<int> SelectThenInsertAsync(string title, CancellationToken cancellationToken = default);

    [Query("SELECT id, title FROM todos ORDER BY id")]
    public partial Task<List<(long Id, Guid Title)>> TitleAsGuidAsync(CancellationToken cancellationToken = default);

    // The select list is read at build time (static ordinals): the defaulted parameters have no column.
    [Query("SELECT id, title FROM todos ORDER BY id")]
    public partial Task<List<TodoWithDefaults>> WithDefaultsAsync(CancellationToken cancellationToken = default);

    // Matched by name when the query runs: done and rank come from columns, the rest are defaults.
    [Query("WITH t AS (SELECT id, title, done, CAST(id * 10 AS integer) AS rank FROM todos) SELECT id, title, done, rank AS \"rank!\" FROM t ORDER BY id")]
    public partial Task<List<TodoWithDefaults>> WithDefaultsMatchedByNameAsync(CancellationToken cancellationToken = default);
}

public partial class QuerySqliteSession : ITodoQueries
{
    /// <summary>The command a SQLite-pinned method would take for <paramref name="sql"/> (for the tests of the connection's kept commands).</summary>
    public Microsoft.Data.Sqlite.SqliteCommand KeptCommand(string sql) => CreateReusableCommand(sql);

    [Query("INSERT INTO todos (title, done, priority, due_at) VALUES (@title, @done, @priority, @due_at) RETURNING id, title, done")]
    public partial Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial ValueTask<Todo> GetAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> ListAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE done = @done ORDER BY id")]
    public partial Task<Todo[]> ListByDoneAsync(bool done, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, due_at, priority FROM todos ORDER BY id")]
    public partial Task<IReadOnlyList<TodoDetails>> DetailsAsync(CancellationToken cancellationToken = default);

    [Query("SELECT id, title FROM todos WHERE priority = @priority ORDER BY id")]
    public partial Task<List<(long Id, string Title)>> ByPriorityAsync(Priority priority, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos ORDER BY id")]
    public partial IAsyncEnumerable<Todo> StreamAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE title = @title")]
    public partial Task<long> CountAsync(string title, CancellationToken cancellationToken = default);

    // The only use of the placeholder is glued to '||' (the usual LIKE pattern).
    [Query("SELECT count(*) FROM todos WHERE title LIKE '%'||@part||'%'")]
    public partial Task<long> ContainingAsync(string part, CancellationToken cancellationToken = default);

    [Query("SELECT title FROM todos WHERE id = @id")]
    public partial Task<string?> TitleAsync(long id, CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET title = @title WHERE id = @id")]
    public partial Task<int> RenameAsync(long id, string? title, CancellationToken cancellationToken = default);

    [Query("DELETE FROM todos WHERE id = @id")]
    public partial Task DeleteAsync(long id, CancellationToken cancellationToken = default);

    // Not statically readable (WITH): the columns are checked when the query runs.
    [Query("WITH t AS (SELECT id, title FROM todos) SELECT id, title FROM t ORDER BY id")]
    public partial Task<List<Todo>> WithoutDoneAsync(CancellationToken cancellationToken = default);

    [Query("WITH t AS (SELECT id, title, done FROM todos) SELECT id, title, done FROM t ORDER BY id")]
    public partial Task<Todo> FirstOfManyAsync(CancellationToken cancellationToken = default);

    // A NULL into the non-nullable bool Done (a value type: read without an IsDBNull check; the typed error still names it).
    [Query("SELECT id, title, CASE WHEN id > 0 THEN NULL ELSE done END AS done FROM todos ORDER BY id")]
    public partial Task<List<Todo>> NullDoneAsync(CancellationToken cancellationToken = default);

    // The same through a NULL scalar into Task<long>.
    [Query("SELECT max(id) FROM todos WHERE id < 0")]
    public partial Task<long> MaxNegativeIdAsync(CancellationToken cancellationToken = default);

    // Unsigned parameters and members (PostgreSQL has no unsigned types: bound and read as the signed type that holds them;
    // bigint into ulong and integer into uint, as VerifyQueriesAsync accepts).
    [Query("SELECT id, priority FROM todos WHERE id > @after AND id <= @most AND priority = @priority ORDER BY id")]
    public partial Task<List<(ulong Id, uint Priority)>> UnsignedAsync(ulong after, uint? most, ushort priority, CancellationToken cancellationToken = default);

    // Enums over unsigned types, bound as the signed type that holds them (uint and ulong as bigint, ushort as integer) and
    // read from the columns VerifyQueriesAsync accepts for them (as for uint, ulong and ushort); a value the enum's type
    // cannot hold is a typed error (NegativeLevelAsync, wrong on purpose: -1 into a uint-backed enum).
    [Query("SELECT CAST(@level AS integer) AS \"level!\", CAST(@mask AS bigint) AS mask, CAST(@small AS smallint) AS \"small!\"")]
    public partial Task<(Level Level, Mask? Mask, Small Small)> UnsignedEnumsAsync(Level level, Mask? mask, Small small, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(@level AS bigint) > 2147483647 AS \"above!\"")]
    public partial Task<bool> IsAboveIntMaxAsync(Level level, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(-1 AS bigint) AS level")]
    public partial Task<Level> NegativeLevelAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE priority = @priority")]
    public partial Task<long> CountByObjectAsync(object priority, CancellationToken cancellationToken = default);

    // A value the member's type cannot hold, and a column of another type: typed errors naming the column.
    [Query("SELECT -1 AS minus_one")]
    public partial Task<uint> MinusOneAsync(CancellationToken cancellationToken = default);

    // sbyte and an enum over it, bound as smallint and read with an overflow check (200 does not fit: a typed error).
    [Query("SELECT CAST(@value AS smallint) AS \"value!\", CAST(@maybe AS smallint) AS maybe, CAST(@level AS smallint) AS \"level!\"")]
    public partial Task<(sbyte Value, sbyte? Maybe, Signed Level)> SignedBytesAsync(sbyte value, sbyte? maybe, Signed level, CancellationToken cancellationToken = default);

    [Query("SELECT CAST(200 AS smallint) AS \"level!\"")]
    public partial Task<Signed> TooLargeSignedAsync(CancellationToken cancellationToken = default);

    // Several statements: an error in one after the statement read is the method's typed error (on SQLite it used to be
    // dropped: Microsoft.Data.Sqlite's reader and ExecuteNonQuery run the later statements without raising their errors).
    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task<long> CountThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task SelectThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET done = done WHERE id < 0; SELECT 1; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial Task<int> RowsThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos; INSERT INTO todos (title, done, priority) VALUES (NULL, FALSE, 0)")]
    public partial IAsyncEnumerable<long> StreamThenFailingInsertAsync(CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET done = done WHERE id < 0; SELECT 1; INSERT INTO todos (title, done, priority) VALUES (@title, FALSE, 0)")]
    public partial Task<int> SelectThenInsertAsync(string title, CancellationToken cancellationToken = default);

    [Query("SELECT id, title FROM todos ORDER BY id")]
    public partial Task<List<(long Id, Guid Title)>> TitleAsGuidAsync(CancellationToken cancellationToken = default);

    // The select list is read at build time (static ordinals): the defaulted parameters have no column.
    [Query("SELECT id, title FROM todos ORDER BY id")]
    public partial Task<List<TodoWithDefaults>> WithDefaultsAsync(CancellationToken cancellationToken = default);

    // Matched by name when the query runs: done and rank come from columns, the rest are defaults.
    [Query("WITH t AS (SELECT id, title, done, CAST(id * 10 AS integer) AS rank FROM todos) SELECT id, title, done, rank AS \"rank!\" FROM t ORDER BY id")]
    public partial Task<List<TodoWithDefaults>> WithDefaultsMatchedByNameAsync(CancellationToken cancellationToken = default);

    // Calls tick(id) for every row it reads: the test's SQL function cancels a token at a chosen row.
    [Query("SELECT id, title, done FROM todos WHERE tick(id) ORDER BY id")]
    public partial Task<List<Todo>> TickingListAsync(CancellationToken cancellationToken = default);
}

public partial class QueryPgSession : IArrayQueries
{
    [Query("INSERT INTO todos (title, done, priority, due_at) VALUES (@title, @done, @priority, @due_at) RETURNING id, title, done")]
    public partial Task<Todo> InsertAsync(string title, bool done, Priority priority, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = @id")]
    public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE id = ANY(@ids) ORDER BY id")]
    public partial Task<List<Todo>> ByIdsAsync(long[] ids, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE title = ANY(@titles) ORDER BY id")]
    public partial Task<List<Todo>> ByTitlesAsync(List<string> titles, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, due_at, priority FROM todos WHERE id = @id")]
    public partial Task<TodoDetails> DetailsAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT array_agg(id ORDER BY id) AS ids FROM todos")]
    public partial Task<IdList> AllIdsAsync(CancellationToken cancellationToken = default);

    [Query("UPDATE todos SET title = @title, due_at = @due_at WHERE id = @id")]
    public partial Task<int> UpdateAsync(long id, string? title, DateTimeOffset? dueAt, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE title = @title AND id > @after_id ORDER BY id")]
    public partial Task<List<Todo>> RepeatedAsync(string title, long afterId, CancellationToken cancellationToken = default);

    // Row 3 divides by zero: the server's error arrives while the stream reads, or while its reader is closed.
    [Query("SELECT x AS \"x!\", 10 / (x - 3) AS y FROM generate_series(1, 5) AS g(x)")]
    public partial IAsyncEnumerable<(int X, int? Y)> DividingAsync(CancellationToken cancellationToken = default);

    // A statement that is still running when its token is cancelled.
    [Query("SELECT count(*) FROM pg_sleep(@seconds)")]
    public partial Task<long> SleepAsync(double seconds, CancellationToken cancellationToken = default);

    // The only use of the placeholder is glued to '||' (the usual LIKE pattern).
    [Query("SELECT count(*) FROM todos WHERE title LIKE '%'||@part||'%'")]
    public partial Task<long> ContainingAsync(string part, CancellationToken cancellationToken = default);

    // Enum and unsigned collections (PostgreSQL arrays of the underlying or signed type).
    [Query("SELECT id, title, done FROM todos WHERE priority = ANY(@priorities) ORDER BY id")]
    public partial Task<List<Todo>> ByPrioritiesAsync(Priority[] priorities, CancellationToken cancellationToken = default);

    [Query("SELECT id, title, done FROM todos WHERE priority = ANY(@priorities) AND id = ANY(@ids) ORDER BY id")]
    public partial Task<List<Todo>> ByPriorityListAsync(List<Priority?> priorities, uint[] ids, CancellationToken cancellationToken = default);

    [Query("SELECT array_agg(priority ORDER BY id) AS priorities, array_agg(id ORDER BY id) AS ids FROM todos")]
    public partial Task<PriorityArrays> PriorityArraysAsync(CancellationToken cancellationToken = default);

    [Query("SELECT CAST(@masks AS bigint[]) AS masks, CAST(@smalls AS smallint[]) AS smalls")]
    public partial Task<LevelLists> LevelListsAsync(List<Mask> masks, Small?[] smalls, CancellationToken cancellationToken = default);

    // A byte enum's array goes as smallint[] (as byte[] it would be bytea).
    [Query("SELECT count(*) FROM unnest(CAST(@tinies AS smallint[])) AS t(v) WHERE v > 0")]
    public partial Task<long> CountTiniesAsync(Tiny[] tinies, CancellationToken cancellationToken = default);

    // An sbyte enum's array goes as smallint[], and reads back with an overflow check per element.
    [Query("SELECT CAST(@vals AS smallint[]) AS vals")]
    public partial Task<SignedList> SignedListAsync(Signed?[] vals, CancellationToken cancellationToken = default);

    // Nullable reference elements (NULLs in a text[]): the generated parameter keeps the element's annotation.
    [Query("SELECT count(*) FROM todos WHERE title = ANY(@titles)")]
    public partial Task<long> CountTitlesAsync(string?[] titles, CancellationToken cancellationToken = default);

    [Query("SELECT count(*) FROM todos WHERE title = ANY(@titles)")]
    public partial Task<long> CountTitleListAsync(List<string?> titles, CancellationToken cancellationToken = default);

    // An array inside an object parameter is passed as it is (a PostgreSQL array).
    [Query("SELECT count(*) FROM todos WHERE id = ANY(@ids)")]
    public partial Task<long> CountIdsInObjectAsync(object ids, CancellationToken cancellationToken = default);
}
