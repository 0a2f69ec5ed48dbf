using DbCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quickstart;

// Configuration: "--connection <url or keywords>" on the command line wins over the class's embedded default.
IConfiguration configuration = new ConfigurationBuilder()
    .AddCommandLine(args, new Dictionary<string, string> { ["--connection"] = "ConnectionStrings:Database" })
    .Build();

var services = new ServiceCollection()
    .AddLogging(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning))
    .AddDatabase(configuration);

await using ServiceProvider provider = services.BuildServiceProvider();
Database db = provider.GetRequiredService<Database>();

Console.WriteLine($"Environment : {db.Environment}");
Console.WriteLine($"Provider    : {db.Provider}");
Console.WriteLine($"Connection  : {db.Options.DisplayConnectionString}");
Console.WriteLine($"Pool        : size {db.Pool.Size}, max overflow {db.Pool.MaxOverflow}, max {db.Pool.MaxSize}, acquire timeout {db.Pool.AcquireTimeout.TotalSeconds} s");

// 1. Create the table (one unit of work: open, begin, run, commit). The SQL lives in the typed queries of
//    DatabaseSession.cs; the session's methods are generated.
await db.ExecuteAsync(async (session, ct) =>
{
    await (db.Provider == DatabaseProvider.PostgreSql ? session.CreatePostgreSqlTableAsync(ct) : session.CreateSqliteTableAsync(ct));
    await session.ClearNotesAsync(ct);
});

// 2. Write rows in one session.
long firstId = await db.ExecuteAsync(async (session, ct) =>
{
    long first = await session.InsertNoteAsync("first note", ct);
    await session.InsertNoteAsync("second note", ct);
    await session.InsertNoteAsync("third note", ct);
    return first;
});
Console.WriteLine($"Rows after commit   : {await db.ExecuteAsync((session, ct) => session.CountNotesAsync(ct))}");

// 3. A unit of work that fails after writing is rolled back: the row is not there afterwards.
try
{
    await db.ExecuteAsync(async (session, ct) =>
    {
        await session.InsertNoteAsync("never stored", ct);
        throw new InvalidOperationException("something went wrong after the write");
    });
}
catch (InvalidOperationException ex)
{
    Console.WriteLine($"Rolled back         : {ex.Message}");
}

Console.WriteLine($"Rows after rollback : {await db.ExecuteAsync((session, ct) => session.CountNotesAsync(ct))}");

// 4. Read the rows back with an explicitly opened session: one row (or null), then all of them streamed.
await using (DatabaseSession session = await db.OpenSessionAsync())
{
    Note? first = await session.FindNoteAsync(firstId);
    Console.WriteLine($"First note          : {first?.Body ?? "(none)"}");
    await foreach (Note note in session.StreamNotesAsync())
    {
        Console.WriteLine($"  #{note.Id} {note.Body}");
    }
}

// 5. Health and pool state.
bool healthy = await db.CheckHealthAsync();
Console.WriteLine($"Healthy             : {healthy}");
Console.WriteLine($"Pool status         : {db.GetPoolStatistics()}");
return healthy ? 0 : 1;
