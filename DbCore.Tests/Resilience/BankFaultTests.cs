using System.Collections.Concurrent;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;

namespace DbCore.Tests.Resilience;

/// <summary>
/// Fault test (a): 16 workers move money while a killer terminates busy backends. Every transfer has an id written to a
/// ledger with a primary key, so a unit of work retried after it had already committed would fail loudly.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BankFaultTests(PostgresServer server)
{
    private const int Accounts = 20;
    private const long InitialBalance = 1_000;
    private const int Workers = 16;
    private const int MinimumTransfers = 200;

    [PostgresFact]
    public async Task Killing_backends_during_transfers_keeps_the_total_and_applies_each_transfer_once()
    {
        string cs = await server.CreateDatabaseAsync("bank");
        await Resilient.AdminAsync(cs, $"""
            CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
            CREATE TABLE ledger (transfer_id uuid PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL);
            INSERT INTO accounts SELECT g, {InitialBalance} FROM generate_series(1, {Accounts}) g;
            """);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s => s.Retry.MaxAttempts = 10);

        var succeeded = new ConcurrentDictionary<Guid, bool>();
        var unknown = new ConcurrentDictionary<Guid, bool>();
        var surfaced = new ConcurrentQueue<Exception>();
        // Runs at least 4 s and 200 transfers (the machine may be busy with other tests), at most 20 s.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        Task[] workers = [.. Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                var id = Guid.NewGuid();
                int from = random.Next(1, Accounts + 1);
                int to = ((from + random.Next(1, Accounts - 1) - 1) % Accounts) + 1;
                long amount = random.Next(1, 50);
                try
                {
                    // Even workers use plain ExecuteAsync, odd ones the verified mode.
                    Func<PgSession, CancellationToken, Task> transfer = (session, ct) => TransferAsync(session, id, from, to, amount, ct);
                    await (worker % 2 == 0 ? db.ExecuteAsync(transfer) : db.ExecuteVerifiedAsync(transfer));
                    succeeded[id] = true;
                }
                catch (CommitOutcomeUnknownException)
                {
                    unknown[id] = true;
                }
                catch (Exception ex)
                {
                    surfaced.Enqueue(ex);
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
                    ORDER BY random() LIMIT 1) victims
                """,
                admin);
            while (!stop.IsCancellationRequested)
            {
                kills += (int)(long)(await command.ExecuteScalarAsync())!;
                await Task.Delay(100);
            }
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!stop.IsCancellationRequested && (clock.Elapsed < TimeSpan.FromSeconds(4) || succeeded.Count < MinimumTransfers))
        {
            await Task.Delay(100);
        }

        await stop.CancelAsync();
        await Task.WhenAll([killer, .. workers]).WaitAsync(TimeSpan.FromSeconds(25));

        Assert.True(kills > 10, $"only {kills} backends killed");
        Assert.NotEmpty(logs.Named("Retrying"));
        Assert.Empty(surfaced);
        Assert.True(succeeded.Count >= MinimumTransfers, $"only {succeeded.Count} transfers in 20 s");

        Assert.Equal(InitialBalance * Accounts, (long)(await Resilient.AdminAsync(cs, "SELECT sum(balance)::bigint FROM accounts"))!);
        // Every account equals its opening balance plus the ledger: no transfer half-applied, none applied twice.
        Assert.Equal(0L, await Resilient.AdminAsync(cs, $"""
            SELECT count(*) FROM accounts a
            WHERE a.balance <> {InitialBalance}
                + COALESCE((SELECT sum(amount) FROM ledger WHERE to_id = a.id), 0)
                - COALESCE((SELECT sum(amount) FROM ledger WHERE from_id = a.id), 0)
            """));
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

        Assert.Subset(ledger, succeeded.Keys.ToHashSet());
        Assert.Superset(ledger, succeeded.Keys.Concat(unknown.Keys).ToHashSet());
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    private static async Task TransferAsync(PgSession session, Guid id, int from, int to, long amount, CancellationToken ct)
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
        foreach ((int account, long delta) in from < to ? new[] { (from, -amount), (to, amount) } : [(to, amount), (from, -amount)])
        {
            await using NpgsqlCommand update = session.CreateCommand("UPDATE accounts SET balance = balance + @delta WHERE id = @id");
            update.Parameters.AddWithValue("delta", delta);
            update.Parameters.AddWithValue("id", account);
            await update.ExecuteNonQueryAsync(ct);
        }
    }
}
