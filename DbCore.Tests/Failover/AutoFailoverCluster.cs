using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.ScaleOut;
using Npgsql;
using Xunit;

namespace DbCore.Tests.Failover;

/// <summary>
/// A pg_auto_failover formation on loopback: a monitor and two PostgreSQL nodes (one primary, one synchronous secondary),
/// each a <c>pg_autoctl ... --run</c> process started as the <c>postgres</c> user with HOME and XDG_* in a temp directory it
/// owns. Exposes the formation's multi-host URI (<c>target_session_attrs=read-write</c>) and the faults the failover tests
/// inject. Stops every process it started (by PID) and deletes the directory on dispose. Used as a class fixture by
/// <c>AutoFailoverTests</c> and linked into tools/Soak for <c>--failover</c>.
/// </summary>
public sealed class AutoFailoverCluster : IAsyncLifetime
{
    public const string Database = "app";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly List<ServiceProcess> _services = [];
    private string? _root;
    private string? _monitorUri;
    private EventHandler? _processExitHandler;

    /// <summary>Where progress lines go (no secrets: the formation runs with trust authentication on loopback).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Where to copy the pg_autoctl logs (monitor, node1, node2) on dispose; <see langword="null"/> for nowhere.</summary>
    public string? KeepLogsIn { get; init; }

    public bool IsAvailable { get; private set; }

    public string? UnavailableReason { get; private set; }

    /// <summary>How long <see cref="InitializeAsync"/> took until a primary and a secondary were reported.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>The formation URI as <c>pg_autoctl show uri --formation default</c> prints it, with the user added.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>The two data nodes, by name (node1, node2).</summary>
    public IReadOnlyList<DataNode> Nodes { get; private set; } = [];

    private string MonitorData => Path.Combine(_root!, "monitor");

    /// <summary>Static check: is pg_autoctl installed with the pgautofailover extension for a PostgreSQL version we have?</summary>
    public static string? MissingReason => Requirement.Value.Reason;

    private static readonly Lazy<(string? Reason, string? PgAutoCtl, string? BinDir)> Requirement = new(FindInstallation);

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        try
        {
            if (MissingReason is { } missing)
            {
                throw new PostgresServerException(missing);
            }

            _root = await ScaleOutProcess.CreateServiceDirectoryAsync("paf");
            _processExitHandler = (_, _) => KillServices();
            AppDomain.CurrentDomain.ProcessExit += _processExitHandler;
            // pg_autoctl creates its config/state/runtime folders without tolerating a concurrent creator: a `show uri`
            // poll racing the monitor's own start made it fail with "File exists". The folders are made here, before any
            // pg_autoctl runs, and the poll waits for the monitor's configuration file.
            string[] folders = ["home", "config", "share", "run"];
            await RunAutoCtlToolAsync("mkdir", ["-p", .. folders.Select(f => Path.Combine(_root, f)), .. folders.Skip(1).Select(f => Path.Combine(_root, f, "pg_autoctl" + MonitorData))]);

            int monitorPort = ScaleOutProcess.GetFreeLoopbackPort();
            StartService("monitor", ["create", "monitor", "--pgdata", MonitorData, "--pgport", Port(monitorPort), "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--run"]);
            string monitorConfig = Path.Combine(_root, "config", "pg_autoctl" + MonitorData, "pg_autoctl.cfg");
            _monitorUri = await EventuallyAsync("the monitor to accept nodes", TimeSpan.FromSeconds(60), async () =>
            {
                if (!File.Exists(monitorConfig))
                {
                    return null;
                }

                using JsonDocument uris = JsonDocument.Parse(await AutoCtlAsync(["show", "uri", "--pgdata", MonitorData, "--json"]));
                return uris.RootElement.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "monitor")
                    .Select(e => e.GetProperty("uri").GetString()).FirstOrDefault(uri => !string.IsNullOrEmpty(uri));
            });
            Log?.Invoke($"monitor up after {clock.Elapsed.TotalSeconds:0.0} s");

            var nodes = new List<DataNode>();
            for (int index = 1; index <= 2; index++)
            {
                var node = new DataNode($"node{index}", ScaleOutProcess.GetFreeLoopbackPort(), Path.Combine(_root, $"node{index}"));
                nodes.Add(node);
                Nodes = nodes;
                StartService(node.Name, ["create", "postgres", "--pgdata", node.DataDirectory, "--pgport", Port(node.Port), "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
                    "--name", node.Name, "--dbname", Database, "--monitor", _monitorUri, "--auth", "trust", "--no-ssl", "--run"]);
                if (index == 1)
                {
                    await WaitForStatesAsync(TimeSpan.FromSeconds(60), ("node1", "single"));
                    // Written before node2's pg_basebackup copies the data directory, so both nodes get them.
                    await TuneAsync(node);
                    Log?.Invoke($"node1 single after {clock.Elapsed.TotalSeconds:0.0} s");
                }
            }

            await WaitForPrimaryAsync(TimeSpan.FromSeconds(90), withSecondary: true);
            // Prints the bare multi-host URI: postgres://127.0.0.1:p1,127.0.0.1:p2/app?target_session_attrs=read-write&sslmode=prefer
            string uri = (await AutoCtlAsync(["show", "uri", "--pgdata", MonitorData, "--formation", "default"]))
                .Split('\n').Select(line => line.Trim()).Single(line => line.StartsWith("postgres://", StringComparison.Ordinal));
            // pg_autoctl prints no user: name the superuser the tests own (trust auth, so no password anywhere).
            ConnectionString = uri.Replace("postgres://", $"postgres://{PostgresServer.SuperUser}@", StringComparison.Ordinal);

            StartupTime = clock.Elapsed;
            IsAvailable = true;
            Log?.Invoke($"formation ready after {StartupTime.TotalSeconds:0.0} s: {ConnectionString}");
        }
        catch (Exception ex)
        {
            UnavailableReason = ex.Message + ServiceLogTails();
            await DisposeAsync();
            if (ScaleOutProcess.IsCi)
            {
                throw new PostgresServerException("The pg_auto_failover formation did not start: " + UnavailableReason, ex);
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

        IsAvailable = false;
        // SIGQUIT to each pg_autoctl (an immediate shutdown of its Postgres: the data is thrown away), nodes before the
        // monitor; then SIGKILL whatever is left.
        foreach (ServiceProcess service in Enumerable.Reverse(_services))
        {
            service.Signal("QUIT");
        }

        foreach (ServiceProcess service in Enumerable.Reverse(_services))
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await service.Process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        KillServices();
        if (KeepLogsIn is not null && _root is not null)
        {
            Directory.CreateDirectory(KeepLogsIn);
            foreach (string log in Directory.GetFiles(_root, "*.log"))
            {
                File.Copy(log, Path.Combine(KeepLogsIn, Path.GetFileName(log)), overwrite: true);
            }
        }

        ScaleOutProcess.TryDeleteDirectory(_root);
        _root = null;
    }

    public void EnsureAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("The pg_auto_failover formation is not available: " + (UnavailableReason ?? "not initialized"));
        }
    }

    /// <summary>The formation URI pointed at another database.</summary>
    public string ConnectionStringFor(string database)
        => ConnectionString.Replace($"/{Database}?", $"/{database}?", StringComparison.Ordinal);

    /// <summary>A plain single-host connection string to one node, unpooled, for setup and checks outside DbCore.</summary>
    public static string NodeConnectionString(DataNode node, string database = Database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = node.Port,
        Username = PostgresServer.SuperUser,
        Database = database,
        Pooling = false,
        Timeout = 5,
    }.ConnectionString;

    /// <summary><c>pg_autoctl show state --json</c>: each node's reported and assigned state.</summary>
    public async Task<IReadOnlyList<NodeState>> GetStateAsync()
    {
        using JsonDocument state = JsonDocument.Parse(await AutoCtlAsync(["show", "state", "--pgdata", MonitorData, "--json"]));
        return [.. state.RootElement.EnumerateArray().Select(e => new NodeState(
            e.GetProperty("nodename").GetString()!,
            e.GetProperty("nodeport").GetInt32(),
            e.GetProperty("current_group_state").GetString()!,
            e.GetProperty("assigned_group_state").GetString()!))];
    }

    /// <summary>
    /// Waits until the monitor reports one node as primary (reported and assigned) and that node accepts writes; with
    /// <paramref name="withSecondary"/> also a settled secondary (what <c>perform failover</c> needs). Returns the primary.
    /// </summary>
    public async Task<DataNode> WaitForPrimaryAsync(TimeSpan timeout, bool withSecondary = false)
    {
        return await EventuallyAsync(withSecondary ? "a primary and a secondary" : "a primary", timeout, async () =>
        {
            IReadOnlyList<NodeState> states = await GetStateAsync();
            NodeState? primary = states.SingleOrDefault(s => s is { Reported: "primary", Assigned: "primary" });
            if (primary is null || (withSecondary && !states.Any(s => s is { Reported: "secondary", Assigned: "secondary" })))
            {
                await CheckpointIfCatchingUpAsync(states);
                return null;
            }

            DataNode node = Nodes.Single(n => n.Port == primary.Port);
            await using var connection = new NpgsqlConnection(NodeConnectionString(node));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT NOT pg_is_in_recovery()", connection);
            return await command.ExecuteScalarAsync() is true ? node : null;
        });
    }

    /// <summary><c>pg_autoctl perform failover</c>: promotes the secondary; returns once the monitor reports the new primary.</summary>
    public async Task PerformFailoverAsync()
    {
        EnsureAvailable();
        await AutoCtlAsync(["perform", "failover", "--pgdata", MonitorData]);
    }

    /// <summary>SIGKILLs the current primary's postmaster (PID from its postmaster.pid); returns the node and the PID.</summary>
    public async Task<(DataNode Node, int Pid)> KillPrimaryPostmasterAsync()
    {
        EnsureAvailable();
        NodeState primary = (await GetStateAsync()).Single(s => s.Assigned == "primary");
        DataNode node = Nodes.Single(n => n.Port == primary.Port);
        string firstLine = File.ReadLines(Path.Combine(node.DataDirectory, "postmaster.pid")).First();
        int pid = int.Parse(firstLine.Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        using (Process postmaster = Process.GetProcessById(pid))
        {
            postmaster.Kill();
        }

        return (node, pid);
    }

    /// <summary>The last lines of each pg_autoctl's output, for failure messages.</summary>
    public string ServiceLogTails(int lines = 15)
        => string.Concat(_services.Select(s => $"\n--- {s.Name} ---\n" + ScaleOutProcess.ReadTail(s.LogPath, lines)));

    private static (string? Reason, string? PgAutoCtl, string? BinDir) FindInstallation()
    {
        const string install = "install the Debian packages postgresql-15-auto-failover and pg-auto-failover-cli";
        string? autoctl = ScaleOutProcess.FindExecutable("pg_autoctl");
        if (autoctl is null)
        {
            return ($"pg_autoctl not found; {install}", null, null);
        }

        // The extension decides the PostgreSQL version: pg_autoctl runs the monitor with it.
        string? binDir = Directory.Exists("/usr/share/postgresql")
            ? Directory.GetDirectories("/usr/share/postgresql")
                .Where(d => File.Exists(Path.Combine(d, "extension", "pgautofailover.control")))
                .Select(d => Path.Combine("/usr/lib/postgresql", Path.GetFileName(d), "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "pg_ctl")))
                .OrderDescending()
                .FirstOrDefault()
            : null;
        return binDir is null ? ($"the pgautofailover extension was not found for an installed PostgreSQL; {install}", autoctl, null) : (null, autoctl, binDir);
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>pg_autoctl needs its HOME/XDG dirs and the PostgreSQL bin dir on PATH; env(1) sets them after runuser.</summary>
    private List<string> AutoCtlEnvironment(string fileName, IReadOnlyList<string> args) =>
    [
        "HOME=" + Path.Combine(_root!, "home"),
        "XDG_CONFIG_HOME=" + Path.Combine(_root!, "config"),
        "XDG_DATA_HOME=" + Path.Combine(_root!, "share"),
        "XDG_RUNTIME_DIR=" + Path.Combine(_root!, "run"),
        "PATH=" + Requirement.Value.BinDir + ":/usr/bin:/bin",
        fileName,
        .. args,
    ];

    private Task<string> RunAutoCtlToolAsync(string fileName, IReadOnlyList<string> args)
        => ScaleOutProcess.RunAsync("/usr/bin/env", AutoCtlEnvironment(fileName, args), CommandTimeout);

    private Task<string> AutoCtlAsync(IReadOnlyList<string> args) => RunAutoCtlToolAsync(Requirement.Value.PgAutoCtl!, args);

    private void StartService(string name, IReadOnlyList<string> args)
    {
        string logPath = Path.Combine(_root!, name + ".log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
        var process = new Process { StartInfo = ScaleOutProcess.CreateStartInfo("/usr/bin/env", AutoCtlEnvironment(Requirement.Value.PgAutoCtl!, args), asServiceUser: true) };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _services.Add(new ServiceProcess(name, process, logPath, log));

        static void Append(StreamWriter log, string? line)
        {
            // pg_autoctl cannot find pg_ctl in root's PATH entries it is not allowed to read; noise only.
            if (line is not null && !line.Contains("Permission denied", StringComparison.Ordinal))
            {
                lock (log)
                {
                    try
                    {
                        log.WriteLine(line);
                    }
                    catch (ObjectDisposedException)
                    {
                        // A last line after the cluster was disposed.
                    }
                }
            }
        }
    }

    /// <summary>Fast and small: this formation is thrown away, so durability settings are off (as in PostgresServer).</summary>
    private static async Task TuneAsync(DataNode node)
    {
        await using var connection = new NpgsqlConnection(NodeConnectionString(node, "postgres"));
        await connection.OpenAsync();
        // Not full_page_writes = off: pg_rewind, which pg_autoctl uses to rejoin a demoted primary, needs it on.
        // Only reloadable settings: a restart-only one (max_connections, shared_buffers) would differ between the nodes
        // until a restart, and a standby refuses to start with a smaller max_connections than its primary.
        foreach (string setting in (string[])["fsync = off"])
        {
            await using var alter = new NpgsqlCommand("ALTER SYSTEM SET " + setting, connection);
            await alter.ExecuteNonQueryAsync();
        }

        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
        await reload.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// pg_autoctl's pg_basebackup asks for a spread checkpoint (minutes with checkpoint_timeout defaults): while a node is
    /// catching up, an immediate CHECKPOINT on the primary lets the backup start at once.
    /// </summary>
    private async Task CheckpointIfCatchingUpAsync(IReadOnlyList<NodeState> states)
    {
        if (!states.Any(s => s.Assigned == "catchingup") || states.SingleOrDefault(s => s.Reported is "wait_primary" or "primary") is not { } primary)
        {
            return;
        }

        try
        {
            await using var connection = new NpgsqlConnection(NodeConnectionString(Nodes.Single(n => n.Port == primary.Port), "postgres"));
            await connection.OpenAsync();
            await using var checkpoint = new NpgsqlCommand("CHECKPOINT", connection);
            await checkpoint.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
        }
    }

    private async Task WaitForStatesAsync(TimeSpan timeout, params (string Node, string State)[] wanted)
        => await EventuallyAsync(string.Join(", ", wanted.Select(w => $"{w.Node} {w.State}")), timeout, async () =>
        {
            IReadOnlyList<NodeState> states = await GetStateAsync();
            return wanted.All(w => states.Any(s => s.Name == w.Node && s.Reported == w.State && s.Assigned == w.State)) ? "ok" : null;
        });

    /// <summary>Polls every 200 ms (errors count as "not yet") until <paramref name="probe"/> returns a value.</summary>
    private async Task<T> EventuallyAsync<T>(string what, TimeSpan timeout, Func<Task<T?>> probe)
        where T : class
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            if (_services.FirstOrDefault(s => s.Process.HasExited) is { } exited)
            {
                throw new PostgresServerException($"pg_autoctl ({exited.Name}) exited with {exited.Process.ExitCode} while waiting for {what}.");
            }

            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is PostgresServerException or NpgsqlException or JsonException or InvalidOperationException or IOException)
            {
                last = ex;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for {what}." + (last is null ? "" : " Last error: " + last.Message));
            }

            await Task.Delay(200);
        }
    }

    private void KillServices()
    {
        foreach (ServiceProcess service in _services)
        {
            try
            {
                if (!service.Process.HasExited)
                {
                    service.Process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }

            lock (service.Log)
            {
                service.Log.Dispose();
            }

            service.Process.Dispose();
        }

        // A postmaster whose pg_autoctl died first is reparented and outside the tree: stop it by its own PID.
        foreach (string pidFile in Directory.Exists(_root ?? "") ? Directory.GetFiles(_root!, "postmaster.pid", SearchOption.AllDirectories) : [])
        {
            try
            {
                int pid = int.Parse(File.ReadLines(pidFile).First().Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
                using Process postmaster = Process.GetProcessById(pid);
                if (postmaster.ProcessName == "postgres")
                {
                    postmaster.Kill();
                }
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or FormatException or System.ComponentModel.Win32Exception)
            {
            }
        }

        _services.Clear();
    }

    public sealed record DataNode(string Name, int Port, string DataDirectory);

    public sealed record NodeState(string Name, int Port, string Reported, string Assigned);

    private sealed record ServiceProcess(string Name, Process Process, string LogPath, StreamWriter Log)
    {
        /// <summary>Signals the pg_autoctl under runuser (runuser's own PID is what Process holds).</summary>
        public void Signal(string signal)
        {
            if (Process.HasExited)
            {
                return;
            }

            foreach (int pid in ChildPids(Process.Id).Append(Process.Id))
            {
                try
                {
                    using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                    kill?.WaitForExit(5_000);
                }
                catch (System.ComponentModel.Win32Exception)
                {
                }
            }
        }

        private static IEnumerable<int> ChildPids(int pid)
        {
            string path = $"/proc/{pid}/task/{pid}/children";
            return File.Exists(path)
                ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray()
                : [];
        }
    }
}
