using System.Globalization;
using DbCore.Tests.Infrastructure;
using Npgsql;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// A primary (a <see cref="PostgresServer"/>) and a hot streaming standby cloned from it with <c>pg_basebackup -R</c>,
/// on two free loopback ports. Stops both servers and deletes both directories on dispose. Used as the fixture of
/// <see cref="ReplicationCollection"/>, and created on its own by tests that destroy the topology (failover).
/// </summary>
public sealed class ReplicationTopology : IAsyncLifetime
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private string? _root;
    private string? _pgCtl;
    private EventHandler? _processExitHandler;

    public PostgresServer Primary { get; } = new();

    public int StandbyPort { get; private set; }

    public bool StandbyRunning { get; private set; }

    public bool IsAvailable { get; private set; }

    public string? UnavailableReason { get; private set; }

    private string StandbyData => Path.Combine(_root!, "data");

    private string StandbyLog => Path.Combine(_root!, "standby.log");

    public async Task InitializeAsync()
    {
        await Primary.InitializeAsync();
        if (!Primary.IsAvailable)
        {
            UnavailableReason = Primary.UnavailableReason;
            return;
        }

        try
        {
            _pgCtl = PostgresBinaries.Find()!.PgCtl;
            string basebackup = ScaleOutProcess.FindPostgresTool("pg_basebackup")
                ?? throw new PostgresServerException("pg_basebackup was not found next to pg_ctl or on the PATH.");
            _root = await ScaleOutProcess.CreateServiceDirectoryAsync("standby");
            _processExitHandler = (_, _) => StopStandbyOnProcessExit();
            AppDomain.CurrentDomain.ProcessExit += _processExitHandler;

            // -R writes standby.signal and primary_conninfo (with the password given here) into the clone.
            string conninfo = $"host={Primary.Host} port={Primary.Port} user={PostgresServer.SuperUser} password={Primary.Password}";
            await ScaleOutProcess.RunAsync(basebackup, ["-d", conninfo, "-D", StandbyData, "-R", "-X", "stream", "-c", "fast", "--no-sync"], CommandTimeout, redact: Primary.Password);

            for (int attempt = 1; ; attempt++)
            {
                StandbyPort = ScaleOutProcess.GetFreeLoopbackPort();
                try
                {
                    await StartStandbyAsync();
                    break;
                }
                catch (PostgresServerException) when (attempt < 3 && ScaleOutProcess.ReadTail(StandbyLog).Contains("could not bind", StringComparison.OrdinalIgnoreCase))
                {
                }
            }

            await WaitForReplayAsync();
            IsAvailable = true;
        }
        catch (Exception ex)
        {
            UnavailableReason = ex.Message;
            await DisposeAsync();
            if (ScaleOutProcess.IsCi)
            {
                throw;
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_processExitHandler is not null)
        {
            AppDomain.CurrentDomain.ProcessExit -= _processExitHandler;
            _processExitHandler = null;
        }

        try
        {
            await StopStandbyAsync("immediate");
        }
        catch (PostgresServerException)
        {
        }

        ScaleOutProcess.TryDeleteDirectory(_root);
        await Primary.DisposeAsync();
        IsAvailable = false;
    }

    public void EnsureAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("The replication topology is not available: " + (UnavailableReason ?? "not initialized"));
        }
    }

    /// <summary>
    /// <c>Host=127.0.0.1:primary,127.0.0.1:standby</c> to <paramref name="database"/>. A short <c>Host Recheck Seconds</c>
    /// keeps the failover tests short; production keeps Npgsql's 10 s default.
    /// </summary>
    public string MultiHostConnectionString(string database, int hostRecheckSeconds = 10) => new NpgsqlConnectionStringBuilder
    {
        Host = $"{Primary.Host}:{Primary.Port},{Primary.Host}:{StandbyPort}",
        Username = PostgresServer.SuperUser,
        Password = Primary.Password,
        Database = database,
        HostRecheckSeconds = hostRecheckSeconds,
    }.ConnectionString;

    public string StandbyConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = Primary.Host,
        Port = StandbyPort,
        Username = PostgresServer.SuperUser,
        Password = Primary.Password,
        Database = database,
        Pooling = false,
    }.ConnectionString;

    /// <summary>Creates a database on the primary and waits until the standby has replayed it; returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        EnsureAvailable();
        string database = new NpgsqlConnectionStringBuilder(await Primary.CreateDatabaseAsync(prefix)).Database!;
        await WaitForReplayAsync();
        return database;
    }

    /// <summary>
    /// Waits (at most 15 s) until the standby has replayed everything the primary has committed so far: commits a marker
    /// row on the primary and waits until the standby sees it (WAL is replayed in order). A marker rather than an LSN:
    /// the test server runs with synchronous_commit=off, and an insert position can sit past a page header that no
    /// replayed record ever reaches.
    /// </summary>
    public async Task WaitForReplayAsync()
    {
        long marker;
        await using (var primary = new NpgsqlConnection(Primary.BuildConnectionString("postgres", pooling: false)))
        {
            await primary.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "CREATE TABLE IF NOT EXISTS dbcore_replay_marker (n bigserial PRIMARY KEY); INSERT INTO dbcore_replay_marker DEFAULT VALUES RETURNING n", primary);
            marker = (long)(await insert.ExecuteScalarAsync())!;
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await using var standby = new NpgsqlConnection(StandbyConnectionString("postgres"));
                await standby.OpenAsync();
                await using var replayed = new NpgsqlCommand("SELECT to_regclass('dbcore_replay_marker') IS NOT NULL AND EXISTS (SELECT 1 FROM dbcore_replay_marker WHERE n = @n)", standby);
                replayed.Parameters.AddWithValue("n", marker);
                if (await replayed.ExecuteScalarAsync() is true)
                {
                    return;
                }
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                // Still starting up ("the database system is starting up"), or the marker table is not replayed yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The standby did not replay marker {marker} within 15 s. Log:\n{ScaleOutProcess.ReadTail(StandbyLog)}");
            }

            await Task.Delay(50);
        }
    }

    public async Task StartStandbyAsync()
    {
        if (StandbyRunning)
        {
            return;
        }

        string options = string.Create(CultureInfo.InvariantCulture,
            $"-c listen_addresses=127.0.0.1 -p {StandbyPort} -k '{_root}' -c fsync=off -c max_connections=200 -c hot_standby=on");
        await ScaleOutProcess.RunAsync(_pgCtl!, ["-D", StandbyData, "-l", StandbyLog, "-w", "-t", "30", "-o", options, "start"], CommandTimeout);
        StandbyRunning = true;
    }

    public async Task StopStandbyAsync(string mode = "fast")
    {
        if (!StandbyRunning || _pgCtl is null)
        {
            return;
        }

        StandbyRunning = false;
        await ScaleOutProcess.RunAsync(_pgCtl, ["-D", StandbyData, "-m", mode, "-w", "-t", "30", "stop"], CommandTimeout);
    }

    /// <summary><c>pg_ctl promote -w</c>: the standby leaves recovery and accepts writes.</summary>
    public Task PromoteStandbyAsync()
        => ScaleOutProcess.RunAsync(_pgCtl!, ["-D", StandbyData, "-w", "-t", "30", "promote"], CommandTimeout);

    private void StopStandbyOnProcessExit()
    {
        if (!StandbyRunning || _pgCtl is null)
        {
            return;
        }

        try
        {
            using var process = System.Diagnostics.Process.Start(ScaleOutProcess.CreateStartInfo(_pgCtl, ["-D", StandbyData, "-m", "immediate", "-w", "-t", "10", "stop"], asServiceUser: true));
            process?.WaitForExit(15_000);
            ScaleOutProcess.TryDeleteDirectory(_root);
        }
        catch
        {
            // Best effort while the process is going away.
        }
    }
}

/// <summary>The replication tests share one topology and run one after another, apart from the shared server.</summary>
[CollectionDefinition(Name)]
public sealed class ReplicationCollection : ICollectionFixture<ReplicationTopology>
{
    public const string Name = "ScaleOut.Replication";
}
