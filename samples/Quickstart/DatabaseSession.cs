using DbCore;

namespace Quickstart;

/// <summary>A note: a row of <c>quickstart_notes</c>, read by column name.</summary>
/// <param name="Id">The generated id.</param>
/// <param name="Body">The text.</param>
public sealed record Note(long Id, string Body);

/// <summary>
/// The app's SQL, as typed queries: DbCore generates each method on the session (command, parameters, reading rows,
/// typed errors), reflection-free, so the app publishes NativeAOT.
/// </summary>
public partial class DatabaseSession
{
    [Query("CREATE TABLE IF NOT EXISTS quickstart_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")]
    public partial Task CreateSqliteTableAsync(CancellationToken cancellationToken = default);

    [Query("CREATE TABLE IF NOT EXISTS quickstart_notes (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body TEXT NOT NULL)")]
    public partial Task CreatePostgreSqlTableAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes every note; the number deleted.</summary>
    [Query("DELETE FROM quickstart_notes")]
    public partial Task<int> ClearNotesAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts a note; its id (a scalar read from the RETURNING column).</summary>
    [Query("INSERT INTO quickstart_notes (body) VALUES (@body) RETURNING id")]
    public partial Task<long> InsertNoteAsync(string body, CancellationToken cancellationToken = default);

    /// <summary>How many notes there are (exactly one row, one column).</summary>
    [Query("SELECT COUNT(*) FROM quickstart_notes")]
    public partial Task<long> CountNotesAsync(CancellationToken cancellationToken = default);

    /// <summary>One note, or null.</summary>
    [Query("SELECT id, body FROM quickstart_notes WHERE id = @id")]
    public partial Task<Note?> FindNoteAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Every note, oldest first, one row at a time.</summary>
    [Query("SELECT id, body FROM quickstart_notes ORDER BY id")]
    public partial IAsyncEnumerable<Note> StreamNotesAsync(CancellationToken cancellationToken = default);
}
