using System.Data.Common;
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

// 1. Create the table (one unit of work: open, begin, run, commit).
string ddl = db.Provider == DatabaseProvider.PostgreSql
    ? "CREATE TABLE IF NOT EXISTS quickstart_notes (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body TEXT NOT NULL)"
    : "CREATE TABLE IF NOT EXISTS quickstart_notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)";
await db.ExecuteAsync(async (session, ct) =>
{
    await using DbCommand create = session.CreateCommand(ddl);
    await create.ExecuteNonQueryAsync(ct);
    await using DbCommand clear = session.CreateCommand("DELETE FROM quickstart_notes");
    await clear.ExecuteNonQueryAsync(ct);
});

// 2. Write rows in one session.
await db.ExecuteAsync(async (session, ct) =>
{
    foreach (string body in new[] { "first note", "second note", "third note" })
    {
        await InsertAsync(session, body, ct);
    }
});
Console.WriteLine($"Rows after commit   : {await CountAsync(db)}");

// 3. A unit of work that fails after writing is rolled back: the row is not there afterwards.
try
{
    await db.ExecuteAsync(async (session, ct) =>
    {
        await InsertAsync(session, "never stored", ct);
        throw new InvalidOperationException("something went wrong after the write");
    });
}
catch (InvalidOperationException ex)
{
    Console.WriteLine($"Rolled back         : {ex.Message}");
}

Console.WriteLine($"Rows after rollback : {await CountAsync(db)}");

// 4. Read the rows back with an explicitly opened session.
await using (DatabaseSession session = await db.OpenSessionAsync())
{
    await using DbCommand select = session.CreateCommand("SELECT id, body FROM quickstart_notes ORDER BY id");
    await using DbDataReader reader = await select.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        Console.WriteLine($"  #{reader.GetInt64(0)} {reader.GetString(1)}");
    }
}

// 5. Health and pool state.
bool healthy = await db.CheckHealthAsync();
Console.WriteLine($"Healthy             : {healthy}");
Console.WriteLine($"Pool status         : {db.GetPoolStatistics()}");
return healthy ? 0 : 1;

static async Task InsertAsync(DatabaseSession session, string body, CancellationToken ct)
{
    await using DbCommand insert = session.CreateCommand("INSERT INTO quickstart_notes (body) VALUES (@body)");
    DbParameter parameter = insert.CreateParameter();
    parameter.ParameterName = "body";
    parameter.Value = body;
    insert.Parameters.Add(parameter);
    await insert.ExecuteNonQueryAsync(ct);
}

static Task<long> CountAsync(Database db)
    => db.ExecuteAsync(static async (session, ct) =>
    {
        await using DbCommand count = session.CreateCommand("SELECT COUNT(*) FROM quickstart_notes");
        return Convert.ToInt64(await count.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    });
