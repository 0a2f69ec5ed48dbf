// The bank-invariant soak: 16 workers transfer money between accounts while a killer terminates one busy backend
// every second. Usage: dotnet run --project tools/Soak -- [seconds=20] [connection string]
// or, across pg_auto_failover failovers: dotnet run --project tools/Soak -- --failover [seconds=60] [--verified]
// (or DBCORE_SOAK_CONNECTION_STRING). Without a connection string it starts a throwaway PostgreSQL like the test
// fixture. Exit code 0 only if the invariant held: the total is unchanged, every account equals its opening balance
// plus its ledger, and the ledger holds every reported success and nothing else but unknown outcomes.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using DbCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Soak;

const int Accounts = 50;
const long InitialBalance = 10_000;
const int Workers = 16;

if (args.Length > 0 && args[0] == "--failover")
{
    return await FailoverSoak.RunAsync(args.Length > 1 && args[1] != "--verified" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 60, args.Contains("--verified"));
}

int seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
string? connectionString = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("DBCORE_SOAK_CONNECTION_STRING");
await using TempPostgres? owned = connectionString is null ? await TempPostgres.StartAsync() : null;
connectionString ??= owned!.ConnectionString;

string database = "dbcore_soak_" + Guid.NewGuid().ToString("N")[..8];
await AdminAsync(connectionString, $"CREATE DATABASE {database}");
string cs = new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;
await AdminAsync(cs, $"""
    CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
    CREATE TABLE ledger (transfer_id uuid PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL);
    INSERT INTO accounts SELECT g, {InitialBalance} FROM generate_series(1, {Accounts}) g;
    """);

var counter = new RetryCounter();
var settings = new BankSettings { ConnectionString = cs };
settings.Retry.MaxAttempts = 10;
settings.Retry.BaseDelayMilliseconds = 20;
settings.Retry.MaxDelayMilliseconds = 1000;
await using var db = new Bank(settings, "Production", counter);

var succeeded = new ConcurrentDictionary<Guid, bool>();
var unknown = new ConcurrentDictionary<Guid, bool>();
var surfaced = new ConcurrentDictionary<string, int>();
using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
var clock = Stopwatch.StartNew();

Task[] workers = [.. Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
{
    var random = new Random(worker);
    while (!stop.IsCancellationRequested)
    {
        var id = Guid.NewGuid();
        int from = random.Next(1, Accounts + 1);
        int to = ((from + random.Next(1, Accounts - 1) - 1) % Accounts) + 1;
        long amount = random.Next(1, 100);
        Func<BankSession, CancellationToken, Task> transfer = (session, ct) => TransferAsync(session, id, from, to, amount, ct);
        try
        {
            // Half the workers use plain ExecuteAsync, half the verified mode.
            await (worker % 2 == 0 ? db.ExecuteAsync(transfer) : db.ExecuteVerifiedAsync(transfer));
            succeeded[id] = true;
        }
        catch (CommitOutcomeUnknownException)
        {
            unknown[id] = true;
        }
        catch (Exception ex)
        {
            surfaced.AddOrUpdate(ex.GetType().Name, 1, static (_, n) => n + 1);
        }
    }
}))];

int kills = 0;
Task killer = Task.Run(async () =>
{
    await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
    await admin.OpenAsync();
    await using var command = new NpgsqlCommand(
        """
        SELECT count(pg_terminate_backend(pid)) FROM (
            SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
            ORDER BY random() LIMIT 1) victim
        """,
        admin);
    while (!stop.IsCancellationRequested)
    {
        try
        {
            await Task.Delay(1000, stop.Token);
        }
        catch (OperationCanceledException)
        {
            break;
        }

        kills += (int)(long)(await command.ExecuteScalarAsync())!;
    }
});

await Task.WhenAll([killer, .. workers]);
TimeSpan elapsed = clock.Elapsed;

long total = (long)(await AdminAsync(cs, "SELECT sum(balance)::bigint FROM accounts"))!;
long inconsistent = (long)(await AdminAsync(cs, $"""
    SELECT count(*) FROM accounts a
    WHERE a.balance <> {InitialBalance}
        + COALESCE((SELECT sum(amount) FROM ledger WHERE to_id = a.id), 0)
        - COALESCE((SELECT sum(amount) FROM ledger WHERE from_id = a.id), 0)
    """))!;
var ledger = new HashSet<Guid>();
await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString))
{
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("SELECT transfer_id FROM ledger", connection);
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        ledger.Add(reader.GetGuid(0));
    }
}

int missing = succeeded.Keys.Count(id => !ledger.Contains(id));
int unexplained = ledger.Count(id => !succeeded.ContainsKey(id) && !unknown.ContainsKey(id));
int unknownApplied = unknown.Keys.Count(ledger.Contains);
bool held = total == InitialBalance * Accounts && inconsistent == 0 && missing == 0 && unexplained == 0;

Console.WriteLine($"duration            {elapsed.TotalSeconds:0.0} s, {Workers} workers, {Accounts} accounts");
Console.WriteLine($"backends killed     {kills}");
Console.WriteLine($"transfers committed {succeeded.Count} ({succeeded.Count / elapsed.TotalSeconds:0} /s)");
Console.WriteLine($"retries             {counter.Retries} (commits verified: {counter.Verified})");
Console.WriteLine($"commit unknown      {unknown.Count} ({unknownApplied} of them applied)");
Console.WriteLine($"surfaced failures   {surfaced.Values.Sum()}{(surfaced.IsEmpty ? "" : " " + string.Join(", ", surfaced.Select(p => $"{p.Key}={p.Value}")))}");
Console.WriteLine($"total balance       {total} (expected {InitialBalance * Accounts})");
Console.WriteLine($"ledger              {ledger.Count} rows, {inconsistent} inconsistent accounts, {missing} successes missing, {unexplained} unexplained rows");
Console.WriteLine($"invariant           {(held ? "HELD" : "BROKEN")}");

await db.DisposeAsync();
NpgsqlConnection.ClearAllPools();
await AdminAsync(connectionString, $"DROP DATABASE {database} WITH (FORCE)");
return held ? 0 : 1;

static async Task TransferAsync(BankSession session, Guid id, int from, int to, long amount, CancellationToken ct)
{
    await using (NpgsqlCommand ledger = session.CreateCommand("INSERT INTO ledger VALUES (@id, @from, @to, @amount)"))
    {
        ledger.Parameters.AddWithValue("id", id);
        ledger.Parameters.AddWithValue("from", from);
        ledger.Parameters.AddWithValue("to", to);
        ledger.Parameters.AddWithValue("amount", amount);
        await ledger.ExecuteNonQueryAsync(ct);
    }

    // Lock in id order so transfers do not deadlock each other.
    (int First, long FirstDelta, int Second, long SecondDelta) order = from < to ? (from, -amount, to, amount) : (to, amount, from, -amount);
    await using NpgsqlCommand update = session.CreateCommand("UPDATE accounts SET balance = balance + @d1 WHERE id = @a1; UPDATE accounts SET balance = balance + @d2 WHERE id = @a2");
    update.Parameters.AddWithValue("d1", order.FirstDelta);
    update.Parameters.AddWithValue("a1", order.First);
    update.Parameters.AddWithValue("d2", order.SecondDelta);
    update.Parameters.AddWithValue("a2", order.Second);
    await update.ExecuteNonQueryAsync(ct);
}

static async Task<object?> AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    return await command.ExecuteScalarAsync();
}

/// <summary>Counts DbCore's Retrying and CommitVerified log events; drops everything else.</summary>
internal sealed class RetryCounter : ILoggerFactory, ILogger
{
    private int _retries;
    private int _verified;

    public int Retries => Volatile.Read(ref _retries);

    public int Verified => Volatile.Read(ref _verified);

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name == "Retrying")
        {
            Interlocked.Increment(ref _retries);
        }
        else if (eventId.Name == "CommitVerified")
        {
            Interlocked.Increment(ref _verified);
        }
    }

    public void Dispose()
    {
    }
}
