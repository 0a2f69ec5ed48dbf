using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace DbCore.Tests.Failover;

/// <summary>
/// The bank workload run across pg_auto_failover failovers, shared by <c>AutoFailoverTests</c> and tools/Soak
/// (<c>--failover</c>): workers move money through a DbCore accessor while a fault schedule runs; each transfer writes a
/// ledger row keyed by its unique id in the same transaction, so a transfer applied twice fails loudly. Afterwards the
/// invariants are checked on the current primary and the figures returned.
/// </summary>
public static class FailoverBank
{
    public const int Accounts = 20;
    public const long InitialBalance = 1_000;

    /// <summary>Creates a fresh database on the current primary with the accounts and the ledger; returns its name.</summary>
    public static async Task<string> CreateDatabaseAsync(AutoFailoverCluster cluster, string prefix)
    {
        string database = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 9, 40)];
        AutoFailoverCluster.DataNode primary = await cluster.WaitForPrimaryAsync(TimeSpan.FromSeconds(30));
        await AdminAsync(AutoFailoverCluster.NodeConnectionString(primary, "postgres"), $"CREATE DATABASE {database}");
        await AdminAsync(AutoFailoverCluster.NodeConnectionString(primary, database), $"""
            CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL);
            CREATE TABLE ledger (transfer_id uuid PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL, amount bigint NOT NULL);
            INSERT INTO accounts SELECT g, {InitialBalance} FROM generate_series(1, {Accounts}) g;
            """);
        return database;
    }

    /// <summary>
    /// Runs <paramref name="workers"/> transfer loops through <paramref name="db"/> (plain or verified mode) until
    /// <paramref name="faults"/> has finished and <paramref name="tail"/> has passed, then checks the invariants.
    /// </summary>
    /// <param name="faults">The fault schedule; gets a callback to note events with their time.</param>
    public static async Task<FailoverFigures> RunAsync<TSession>(
        AutoFailoverCluster cluster,
        DatabaseAccessor<TSession> db,
        string database,
        bool verified,
        int workers,
        Func<Action<string>, Task> faults,
        TimeSpan tail)
        where TSession : DbSession
    {
        using var retries = new RetryMeter(database);
        var acknowledged = new ConcurrentDictionary<Guid, long>();
        var unknown = new ConcurrentDictionary<Guid, bool>();
        var failed = new ConcurrentDictionary<Guid, bool>();
        var failures = new ConcurrentDictionary<string, FailureDetail>();
        var events = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();

        Task[] loops = [.. Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!stop.IsCancellationRequested)
            {
                var id = Guid.NewGuid();
                int from = random.Next(1, Accounts + 1);
                int to = ((from + random.Next(1, Accounts - 1) - 1) % Accounts) + 1;
                long amount = random.Next(1, 50);
                Func<TSession, CancellationToken, Task> transfer = (session, ct) => TransferAsync(session, id, from, to, amount, ct);
                try
                {
                    await (verified ? db.ExecuteVerifiedAsync(transfer) : db.ExecuteAsync(transfer));
                    acknowledged[id] = clock.ElapsedTicks;
                }
                catch (Exception ex)
                {
                    (ex is CommitOutcomeUnknownException ? unknown : failed)[id] = true;
                    FailureDetail detail = FailureDetail.From(ex, clock.Elapsed);
                    failures.AddOrUpdate(detail.Key, detail, (_, existing) => existing with { Count = existing.Count + 1 });
                    // A failed transfer goes round again only after a pause, as a caller would; it must not spin.
                    await Task.Delay(50);
                }
            }
        }))];

        Exception? faultError = null;
        try
        {
            await faults(line => events.Enqueue($"{clock.Elapsed.TotalSeconds,6:0.0} s  {line}"));
            await Task.Delay(tail);
        }
        catch (Exception ex)
        {
            faultError = ex;
            events.Enqueue($"{clock.Elapsed.TotalSeconds,6:0.0} s  fault schedule failed: {ex.GetType().Name}: {ex.Message}");
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(60));
        TimeSpan elapsed = clock.Elapsed;

        // The invariants, on whichever node is primary now.
        AutoFailoverCluster.DataNode primary = await cluster.WaitForPrimaryAsync(TimeSpan.FromSeconds(60));
        string check = AutoFailoverCluster.NodeConnectionString(primary, database);
        long total = (long)(await AdminAsync(check, "SELECT sum(balance)::bigint FROM accounts"))!;
        long inconsistent = (long)(await AdminAsync(check, $"""
            SELECT count(*) FROM accounts a
            WHERE a.balance <> {InitialBalance}
                + COALESCE((SELECT sum(amount) FROM ledger WHERE to_id = a.id), 0)
                - COALESCE((SELECT sum(amount) FROM ledger WHERE from_id = a.id), 0)
            """))!;
        var ledger = new HashSet<Guid>();
        await using (var connection = new NpgsqlConnection(check))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT transfer_id FROM ledger", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ledger.Add(reader.GetGuid(0));
            }
        }

        long[] commits = [.. acknowledged.Values.Order()];
        (double outage, double outageAt) = LongestGap(commits, Stopwatch.Frequency);
        return new FailoverFigures
        {
            Mode = verified ? "ExecuteVerifiedAsync" : "ExecuteAsync",
            Workers = workers,
            DurationSeconds = Math.Round(elapsed.TotalSeconds, 1),
            Events = [.. events],
            FaultScheduleError = faultError?.Message,
            Committed = acknowledged.Count,
            FailedTyped = failures.Values.Where(f => f.Typed).GroupBy(f => f.Type).ToDictionary(g => g.Key, g => g.Sum(f => f.Count)),
            Untyped = failures.Values.Where(f => !f.Typed).GroupBy(f => f.Type).ToDictionary(g => g.Key, g => g.Sum(f => f.Count)),
            Retries = retries.Count,
            LongestWriteOutageSeconds = Math.Round(outage, 2),
            LongestWriteOutageStartedAtSeconds = Math.Round(outageAt, 1),
            ExpectedTotal = InitialBalance * Accounts,
            Total = total,
            InconsistentAccounts = inconsistent,
            AcknowledgedMissing = acknowledged.Keys.Count(id => !ledger.Contains(id)),
            FailedButApplied = failed.Keys.Count(ledger.Contains),
            UnknownApplied = unknown.Keys.Count(ledger.Contains),
            LedgerRows = ledger.Count,
            UnexplainedLedgerRows = ledger.Count(id => !acknowledged.ContainsKey(id) && !unknown.ContainsKey(id) && !failed.ContainsKey(id)),
            Failures = [.. failures.Values.OrderByDescending(f => f.Count)],
        };
    }

    /// <summary>
    /// The fault cycle of the test and the soak: <c>pg_autoctl perform failover</c> once a secondary is ready, then, as
    /// soon as the new primary accepts writes, SIGKILL of its postmaster (pg_autoctl restarts it); returns when a primary
    /// accepts writes again.
    /// </summary>
    public static async Task FailoverThenKillPrimaryAsync(AutoFailoverCluster cluster, Action<string> note)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(60);
        AutoFailoverCluster.DataNode before = await cluster.WaitForPrimaryAsync(timeout, withSecondary: true);
        note($"pg_autoctl perform failover (primary {before.Name})");
        var watch = Stopwatch.StartNew();
        await cluster.PerformFailoverAsync();
        AutoFailoverCluster.DataNode promoted = await cluster.WaitForPrimaryAsync(timeout);
        note($"failover done after {watch.Elapsed.TotalSeconds:0.0} s: {promoted.Name} is primary");
        (AutoFailoverCluster.DataNode killed, int pid) = await cluster.KillPrimaryPostmasterAsync();
        note($"SIGKILL postmaster {pid} of {killed.Name}");
        watch.Restart();
        AutoFailoverCluster.DataNode back = await cluster.WaitForPrimaryAsync(timeout);
        note($"{back.Name} primary and accepting writes after {watch.Elapsed.TotalSeconds:0.0} s");
    }

    private static (double Seconds, double StartedAt) LongestGap(long[] sortedTicks, long frequency)
    {
        long best = 0, at = 0;
        for (int i = 1; i < sortedTicks.Length; i++)
        {
            if (sortedTicks[i] - sortedTicks[i - 1] > best)
            {
                best = sortedTicks[i] - sortedTicks[i - 1];
                at = sortedTicks[i - 1];
            }
        }

        return ((double)best / frequency, (double)at / frequency);
    }

    private static async Task TransferAsync(DbSession session, Guid id, int from, int to, long amount, CancellationToken ct)
    {
        await using (DbCommand ledger = session.CreateCommand("INSERT INTO ledger VALUES (@id, @from, @to, @amount)"))
        {
            Add(ledger, "id", id);
            Add(ledger, "from", from);
            Add(ledger, "to", to);
            Add(ledger, "amount", amount);
            await ledger.ExecuteNonQueryAsync(ct);
        }

        // Lock in id order so transfers do not deadlock each other.
        (int first, long firstDelta, int second, long secondDelta) = from < to ? (from, -amount, to, amount) : (to, amount, from, -amount);
        await using DbCommand update = session.CreateCommand("UPDATE accounts SET balance = balance + @d1 WHERE id = @a1; UPDATE accounts SET balance = balance + @d2 WHERE id = @a2");
        Add(update, "d1", firstDelta);
        Add(update, "a1", first);
        Add(update, "d2", secondDelta);
        Add(update, "a2", second);
        await update.ExecuteNonQueryAsync(ct);
    }

    private static void Add(DbCommand command, string name, object value)
    {
        DbParameter parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static async Task<object?> AdminAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>Counts the <c>dbcore.retries</c> metric of one database (other tests run beside this one).</summary>
    private sealed class RetryMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public RetryMeter(string database)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "DbCore" && instrument.Name == "dbcore.retries")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "db.namespace" && database.Equals(tag.Value as string, StringComparison.Ordinal))
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>One kind of failure a transfer surfaced: the exception's type, message, inner chain and DbCore's verdict.</summary>
public sealed record FailureDetail(string Type, bool Typed, string Message, string InnerTypes, string? SqlState, bool? IsTransient, int? Attempts, string Phase, double FirstAtSeconds, int Count)
{
    public string Key => $"{Type}|{Message}|{InnerTypes}|{SqlState}|{IsTransient}|{Phase}";

    public static FailureDetail From(Exception ex, TimeSpan at)
    {
        var inner = new List<string>();
        for (Exception? e = ex.InnerException; e is not null; e = e.InnerException)
        {
            inner.Add(e is PostgresException pg ? $"{e.GetType().Name}({pg.SqlState})" : e.GetType().Name);
        }

        var dbcore = ex as DbCoreException;
        // Attempts is the wave-2 property (DESIGN.md §4); read by name so this builds before and after it lands.
        int? attempts = dbcore?.GetType().GetProperty("Attempts")?.GetValue(dbcore) is int n ? n : null;
        return new FailureDetail(ex.GetType().Name, dbcore is not null, ex.Message, string.Join(" > ", inner), dbcore?.SqlState, dbcore?.IsTransient, attempts, PhaseOf(ex), Math.Round(at.TotalSeconds, 1), 1);
    }

    /// <summary>DbCore does not expose its ErrorPhase: read it off the provider exception's stack (open, commit, else execute).</summary>
    private static string PhaseOf(Exception ex)
    {
        string stack = ex.InnerException?.StackTrace ?? ex.StackTrace ?? "";
        return stack.Contains("Commit", StringComparison.Ordinal) ? "commit"
            : stack.Contains("Open", StringComparison.Ordinal) || stack.Contains("ConnectorPool", StringComparison.Ordinal) ? "acquire"
            : "execute";
    }
}

/// <summary>What one failover run measured, printable as text, JSON and a markdown table row set.</summary>
public sealed record FailoverFigures
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public required string Mode { get; init; }

    public int Workers { get; init; }

    public double DurationSeconds { get; init; }

    public IReadOnlyList<string> Events { get; init; } = [];

    public string? FaultScheduleError { get; init; }

    public int Committed { get; init; }

    public IReadOnlyDictionary<string, int> FailedTyped { get; init; } = new Dictionary<string, int>();

    public IReadOnlyDictionary<string, int> Untyped { get; init; } = new Dictionary<string, int>();

    public long Retries { get; init; }

    public double LongestWriteOutageSeconds { get; init; }

    public double LongestWriteOutageStartedAtSeconds { get; init; }

    public long ExpectedTotal { get; init; }

    public long Total { get; init; }

    public long InconsistentAccounts { get; init; }

    public int AcknowledgedMissing { get; init; }

    public int FailedButApplied { get; init; }

    public int UnknownApplied { get; init; }

    public int LedgerRows { get; init; }

    public int UnexplainedLedgerRows { get; init; }

    public IReadOnlyList<FailureDetail> Failures { get; init; } = [];

    public int FailedTypedTotal => FailedTyped.Values.Sum();

    public int UntypedTotal => Untyped.Values.Sum();

    /// <summary>Total unchanged, each account equal to its ledger, every acknowledged transfer present, no failed one applied.</summary>
    public bool InvariantsHeld => Total == ExpectedTotal && InconsistentAccounts == 0 && AcknowledgedMissing == 0 && FailedButApplied == 0 && UnexplainedLedgerRows == 0;

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"mode                 {Mode}, {Workers} workers, {DurationSeconds:0.0} s");
        foreach (string e in Events)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"event                {e}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"transfers committed  {Committed}");
        text.AppendLine(CultureInfo.InvariantCulture, $"failed, typed        {FailedTypedTotal}{Breakdown(FailedTyped)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"failed, untyped      {UntypedTotal}{Breakdown(Untyped)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"retries (metric)     {Retries}");
        text.AppendLine(CultureInfo.InvariantCulture, $"longest write outage {LongestWriteOutageSeconds:0.00} s (from {LongestWriteOutageStartedAtSeconds:0.0} s)");
        text.AppendLine(CultureInfo.InvariantCulture, $"total balance        {Total} (expected {ExpectedTotal})");
        text.AppendLine(CultureInfo.InvariantCulture, $"ledger               {LedgerRows} rows, {InconsistentAccounts} inconsistent accounts, {AcknowledgedMissing} acknowledged missing, {FailedButApplied} failed-but-applied, {UnknownApplied} unknown-outcome applied, {UnexplainedLedgerRows} unexplained");
        text.AppendLine(CultureInfo.InvariantCulture, $"invariants           {(InvariantsHeld ? "HELD" : "BROKEN")}");
        foreach (FailureDetail f in Failures)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"failure x{f.Count,-4} {f.Type} (first at {f.FirstAtSeconds:0.0} s) SqlState={f.SqlState ?? "-"} IsTransient={f.IsTransient?.ToString() ?? "-"} phase~{f.Phase} Attempts={f.Attempts?.ToString(CultureInfo.InvariantCulture) ?? "n/a"} inner=[{f.InnerTypes}] \"{f.Message}\"");
        }

        return text.ToString();
    }

    public string ToMarkdown() => string.Join('\n',
        $"| {Mode} | value |",
        "| --- | --- |",
        $"| duration, workers | {DurationSeconds:0.0} s, {Workers} |",
        $"| transfers committed | {Committed} |",
        $"| failed with a typed error | {FailedTypedTotal}{Breakdown(FailedTyped)} |",
        $"| untyped errors | {UntypedTotal}{Breakdown(Untyped)} |",
        $"| retries (`dbcore.retries`) | {Retries} |",
        $"| longest write outage | {LongestWriteOutageSeconds:0.00} s |",
        $"| invariants | {(InvariantsHeld ? "held" : "BROKEN")}: total {Total}/{ExpectedTotal}, {InconsistentAccounts} inconsistent accounts, {AcknowledgedMissing} acknowledged missing, {FailedButApplied} failed-but-applied |",
        "");

    private static string Breakdown(IReadOnlyDictionary<string, int> counts)
        => counts.Count == 0 ? "" : " (" + string.Join(", ", counts.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")) + ")";
}
