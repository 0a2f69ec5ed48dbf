using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Xunit;

namespace DbCore.Tests.Infrastructure;

/// <summary>
/// A real, throwaway PostgreSQL server for tests: a fresh cluster in a temp directory, listening only on
/// 127.0.0.1 on a free port, with fsync off. Use it through <see cref="PostgresCollection"/> and mark tests
/// with <see cref="PostgresFactAttribute"/>; give each test its own database via <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// When the process runs as root (sessions and CI do), the directory is chowned to <c>postgres</c> and every
/// PostgreSQL binary runs through <c>runuser -u postgres --</c>, because <c>initdb</c> and <c>postgres</c>
/// refuse root. When the binaries are missing or the server does not start, <see cref="InitializeAsync"/>
/// throws if the environment variable <c>CI</c> is <c>true</c>; otherwise <see cref="IsAvailable"/> is false
/// and <see cref="UnavailableReason"/> says why.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string SuperUser = "postgres";

    private const int MaxStartAttempts = 3;
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan InitDbTimeout = TimeSpan.FromSeconds(120);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private PostgresBinaries? _binaries;
    private bool _runAsPostgres;
    private string? _rootDirectory;
    private bool _running;
    private bool _disposed;
    private EventHandler? _processExitHandler;
    private Process? _watchdog;

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    public string Password { get; } = CreatePassword(24);

    /// <summary>Keyword form, to database <c>postgres</c> as user <c>postgres</c>; pooling left at Npgsql's default.</summary>
    public string ConnectionString => BuildConnectionString("postgres", pooling: null);

    /// <summary>URL form: <c>postgresql://postgres:PASS@127.0.0.1:PORT/postgres</c>.</summary>
    public string Url => $"postgresql://{SuperUser}:{Password}@{Host}:{Port}/postgres";

    public bool IsAvailable { get; private set; }

    public string? UnavailableReason { get; private set; }

    public string DataDirectory => Path.Combine(RootDirectory, "data");

    public string LogPath => Path.Combine(RootDirectory, "server.log");

    /// <summary>Whether the postmaster is currently running (false after <see cref="StopAsync"/>).</summary>
    public bool IsRunning => _running;

    /// <summary>How long <see cref="InitializeAsync"/> took (initdb plus first start).</summary>
    public TimeSpan StartupTime { get; private set; }

    private string RootDirectory => _rootDirectory ?? throw new InvalidOperationException("The PostgreSQL server has not been initialized.");

    private static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public async Task InitializeAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            _binaries = PostgresBinaries.Find()
                ?? throw new PostgresServerException(
                    "PostgreSQL binaries (initdb, pg_ctl, postgres) were not found on the PATH or in /usr/lib/postgresql/*/bin; install the Debian package postgresql.");

            _runAsPostgres = await IsRootAsync().ConfigureAwait(false);
            _rootDirectory = CreateRootDirectory(_runAsPostgres);

            await InitDbAsync().ConfigureAwait(false);

            _processExitHandler = (_, _) => StopOnProcessExit();
            AppDomain.CurrentDomain.ProcessExit += _processExitHandler;

            await StartWithFreshPortAsync().ConfigureAwait(false);
            StartWatchdog();
            IsAvailable = true;
            UnavailableReason = null;
        }
        catch (Exception ex)
        {
            var reason = Redact(ex.Message);
            var tail = ReadLogTail();
            if (tail.Length > 0 && !reason.Contains(tail, StringComparison.Ordinal))
            {
                reason += Environment.NewLine + "Server log tail:" + Environment.NewLine + tail;
            }

            IsAvailable = false;
            UnavailableReason = reason;
            await CleanUpAsync().ConfigureAwait(false);
            if (IsCi)
            {
                throw new PostgresServerException("The test PostgreSQL server could not be started (CI=true, so this fails instead of skipping): " + reason, ex);
            }
        }
        finally
        {
            StartupTime = stopwatch.Elapsed;
        }
    }

    public async Task DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            await CleanUpAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Throws with <see cref="UnavailableReason"/> when the server is not available.</summary>
    public void EnsureAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("The test PostgreSQL server is not available: " + (UnavailableReason ?? "not initialized"));
        }
    }

    /// <summary>
    /// Creates a database with a unique lower-case name (<paramref name="prefix"/> plus a short guid) and returns a
    /// keyword-form connection string to it (user <c>postgres</c>, pooling left at Npgsql's default).
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null)
    {
        EnsureAvailable();
        var name = CreateDatabaseName(prefix);
        await using (var connection = new NpgsqlConnection(BuildConnectionString("postgres", pooling: false)))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE DATABASE \"" + name + "\"";
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }

        return BuildConnectionString(name, pooling: null);
    }

    /// <summary>Builds a keyword-form connection string to <paramref name="database"/> on this server.</summary>
    public string BuildConnectionString(string database, bool? pooling = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = SuperUser,
            Password = Password,
            Database = database,
        };
        if (pooling is { } value)
        {
            builder.Pooling = value;
        }

        return builder.ConnectionString;
    }

    /// <summary>Stops the server (<c>pg_ctl stop -m fast -w</c>) and clears Npgsql's idle pooled connections.</summary>
    public async Task StopAsync()
    {
        EnsureAvailable();
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await StopCoreAsync("fast").ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the server again on the same port; a no-op when it is running.</summary>
    public async Task StartAsync()
    {
        EnsureAvailable();
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await StartCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops (fast) and starts the server on the same port, then clears Npgsql's idle pooled connections.</summary>
    public async Task RestartAsync()
    {
        EnsureAvailable();
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            await StopCoreAsync("fast").ConfigureAwait(false);
            await StartCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }

        NpgsqlConnection.ClearAllPools();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private async Task InitDbAsync()
    {
        var passwordFile = Path.Combine(RootDirectory, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password + "\n").ConfigureAwait(false);
        try
        {
            if (_runAsPostgres)
            {
                await RunAsync("chown", ["-R", SuperUser + ":" + SuperUser, RootDirectory], ShortTimeout).ConfigureAwait(false);
            }

            List<string> args =
            [
                "-D", DataDirectory,
                "-U", SuperUser,
                "--auth=scram-sha-256",
                "--pwfile=" + passwordFile,
                "-E", "UTF8",
                "--locale=" + PostgresBinaries.Locale,
                "--no-sync",
                "--no-instructions",
            ];
            await RunPgAsync(_binaries!.InitDb, args, InitDbTimeout).ConfigureAwait(false);
        }
        finally
        {
            TryDeleteFile(passwordFile);
        }
    }

    private async Task StartWithFreshPortAsync()
    {
        Exception? last = null;
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            Port = GetFreeLoopbackPort();
            try
            {
                await StartCoreAsync().ConfigureAwait(false);
                return;
            }
            catch (PostgresServerException ex) when (attempt < MaxStartAttempts && IsPortConflict())
            {
                // Someone took the port between our probe and the postmaster's bind: try another one.
                last = ex;
            }
        }

        throw new PostgresServerException("The PostgreSQL server did not start after " + MaxStartAttempts + " attempts.", last);
    }

    private bool IsPortConflict()
    {
        var tail = ReadLogTail(200);
        return tail.Contains("could not bind", StringComparison.OrdinalIgnoreCase)
            || tail.Contains("Address already in use", StringComparison.OrdinalIgnoreCase)
            || tail.Contains("could not create any TCP/IP sockets", StringComparison.OrdinalIgnoreCase);
    }

    private async Task StartCoreAsync()
    {
        if (_running)
        {
            return;
        }

        var options = new StringBuilder()
            .Append("-c listen_addresses=127.0.0.1")
            .Append(" -p ").Append(Port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Append(" -k ").Append(ShellQuote(RootDirectory))
            .Append(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200");
        if (_binaries!.HasPgStatStatements)
        {
            options.Append(" -c shared_preload_libraries=pg_stat_statements");
        }

        // pg_ctl hands -o to /bin/sh, hence the quoting of the socket directory above.
        List<string> args = ["-D", DataDirectory, "-l", LogPath, "-w", "-t", "30", "-o", options.ToString(), "start"];
        await RunPgAsync(_binaries.PgCtl, args, TimeSpan.FromSeconds(60), includeLogTail: true).ConfigureAwait(false);
        _running = true;
    }

    private async Task StopCoreAsync(string mode)
    {
        if (!_running)
        {
            return;
        }

        await RunPgAsync(_binaries!.PgCtl, ["-D", DataDirectory, "-m", mode, "-w", "-t", "60", "stop"], TimeSpan.FromSeconds(90), includeLogTail: true)
            .ConfigureAwait(false);
        _running = false;
    }

    private async Task CleanUpAsync()
    {
        if (_processExitHandler is not null)
        {
            AppDomain.CurrentDomain.ProcessExit -= _processExitHandler;
            _processExitHandler = null;
        }

        if (_rootDirectory is null)
        {
            return;
        }

        if (_binaries is not null && File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await RunPgAsync(_binaries.PgCtl, ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], ShortTimeout).ConfigureAwait(false);
            }
            catch (PostgresServerException)
            {
                // Already stopped, or never started.
            }
        }

        _running = false;
        IsAvailable = false;
        UnavailableReason ??= "The server has been disposed.";
        StopWatchdog();
        TryDeleteDirectory(_rootDirectory);
    }

    private void StopOnProcessExit()
    {
        try
        {
            if (_binaries is null || _rootDirectory is null || !File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                return;
            }

            var (fileName, args) = Wrap(_binaries.PgCtl, ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "10", "stop"]);
            using var process = Process.Start(CreateStartInfo(fileName, args));
            if (process is not null && !process.WaitForExit(15_000))
            {
                process.Kill(entireProcessTree: true);
            }

            StopWatchdog();
            TryDeleteDirectory(_rootDirectory);
        }
        catch
        {
            // Best effort while the process is going away.
        }
    }

    /// <summary>
    /// A small shell loop that stops the server and removes the directory if this test process dies without running
    /// its ProcessExit handlers (SIGKILL by the test host, a crash). Paths are passed as arguments, not spliced.
    /// </summary>
    private void StartWatchdog()
    {
        if (!File.Exists("/bin/sh"))
        {
            return;
        }

        const string script =
            "while kill -0 \"$1\" 2>/dev/null; do sleep 2; done; " +
            "if [ -n \"$5\" ]; then runuser -u \"$5\" -- \"$2\" -D \"$3\" -m immediate -w -t 10 stop; else \"$2\" -D \"$3\" -m immediate -w -t 10 stop; fi; " +
            "rm -rf -- \"$4\"";
        var startInfo = CreateStartInfo("/bin/sh", ["-c", script, "pg-watchdog", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), _binaries!.PgCtl, DataDirectory, RootDirectory, _runAsPostgres ? SuperUser : string.Empty]);
        startInfo.RedirectStandardInput = true;
        try
        {
            _watchdog = Process.Start(startInfo);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            _watchdog = null;
        }
    }

    private void StopWatchdog()
    {
        var watchdog = Interlocked.Exchange(ref _watchdog, null);
        if (watchdog is null)
        {
            return;
        }

        try
        {
            if (!watchdog.HasExited)
            {
                watchdog.Kill(entireProcessTree: true);
                watchdog.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            watchdog.Dispose();
        }
    }

    private Task<ProcessResult> RunPgAsync(string binary, IReadOnlyList<string> args, TimeSpan timeout, bool includeLogTail = false)
    {
        var (fileName, wrapped) = Wrap(binary, args);
        return RunAsync(fileName, wrapped, timeout, includeLogTail);
    }

    private (string FileName, IReadOnlyList<string> Args) Wrap(string binary, IReadOnlyList<string> args)
    {
        if (!_runAsPostgres)
        {
            return (binary, args);
        }

        var wrapped = new List<string>(args.Count + 4) { "-u", SuperUser, "--", binary };
        wrapped.AddRange(args);
        return ("runuser", wrapped);
    }

    private ProcessStartInfo CreateStartInfo(string fileName, IReadOnlyList<string> args)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            // The postgres user may not be able to read the current directory (initdb complains); use our own.
            WorkingDirectory = _rootDirectory is not null && Directory.Exists(_rootDirectory) ? _rootDirectory : Path.GetTempPath(),
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        // Keep the caller's libpq settings (PGDATA, PGPORT, PGHOST, ...) out of the server's way.
        foreach (var key in startInfo.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(key);
        }

        startInfo.Environment["LC_ALL"] = PostgresBinaries.Locale;
        return startInfo;
    }

    private async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> args, TimeSpan timeout, bool includeLogTail = false)
    {
        var startInfo = CreateStartInfo(fileName, args);
        var commandLine = fileName + " " + string.Join(' ', args);
        using var process = new Process { StartInfo = startInfo };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };

        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new PostgresServerException(Redact($"Could not start '{commandLine}': {ex.Message}"), ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            throw new PostgresServerException(Redact(Describe($"'{commandLine}' timed out after {timeout.TotalSeconds:0} s.", stdout, stderr, includeLogTail)));
        }

        var result = new ProcessResult(process.ExitCode, Snapshot(stdout), Snapshot(stderr));
        if (result.ExitCode != 0)
        {
            throw new PostgresServerException(Redact(Describe($"'{commandLine}' exited with code {result.ExitCode}.", stdout, stderr, includeLogTail)));
        }

        return result;
    }

    private string Describe(string headline, StringBuilder stdout, StringBuilder stderr, bool includeLogTail)
    {
        var message = new StringBuilder(headline);
        var output = Snapshot(stdout).TrimEnd();
        var errors = Snapshot(stderr).TrimEnd();
        if (output.Length > 0)
        {
            message.AppendLine().Append("stdout:").AppendLine().Append(output);
        }

        if (errors.Length > 0)
        {
            message.AppendLine().Append("stderr:").AppendLine().Append(errors);
        }

        if (includeLogTail)
        {
            var tail = ReadLogTail();
            if (tail.Length > 0)
            {
                message.AppendLine().Append("Server log tail:").AppendLine().Append(tail);
            }
        }

        return message.ToString();
    }

    private static string Snapshot(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString();
        }
    }

    private string Redact(string text) => text.Replace(Password, "********", StringComparison.Ordinal);

    private string ReadLogTail(int lines = 30)
    {
        try
        {
            if (_rootDirectory is null || !File.Exists(LogPath))
            {
                return string.Empty;
            }

            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return Redact(string.Join('\n', all.TakeLast(lines)).TrimEnd());
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static async Task<bool> IsRootAsync()
    {
        if (Environment.UserName == "root")
        {
            return true;
        }

        try
        {
            var startInfo = new ProcessStartInfo("id", "-u") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(startInfo);
            if (process is null)
            {
                return false;
            }

            var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            return output.Trim() == "0";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static string CreateRootDirectory(bool runAsPostgres)
    {
        // The postgres user must be able to reach the directory, so under root avoid a private TMPDIR.
        var parent = Path.GetTempPath();
        if (runAsPostgres && !IsTraversableByOthers(parent) && Directory.Exists("/tmp"))
        {
            parent = "/tmp";
        }

        var path = Path.Combine(parent, "dbcore-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    private static bool IsTraversableByOthers(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        for (var dir = new DirectoryInfo(Path.GetFullPath(path)); dir is not null; dir = dir.Parent)
        {
            if (!dir.Exists || (dir.UnixFileMode & UnixFileMode.OtherExecute) == 0)
            {
                return false;
            }
        }

        return true;
    }

    private static int GetFreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string CreateDatabaseName(string? prefix)
    {
        var cleaned = new StringBuilder();
        foreach (var c in (prefix ?? "test").ToLowerInvariant())
        {
            cleaned.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' ? c : '_');
        }

        if (cleaned.Length == 0 || char.IsDigit(cleaned[0]))
        {
            cleaned.Insert(0, "db_");
        }

        // 63 bytes is PostgreSQL's identifier limit; keep room for "_" + 12 hex digits.
        var head = cleaned.ToString();
        if (head.Length > 50)
        {
            head = head[..50];
        }

        return head.TrimEnd('_') + "_" + Guid.NewGuid().ToString("N")[..12];
    }

    private static string CreatePassword(int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }

                return;
            }
            catch (IOException)
            {
                Thread.Sleep(200);
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private readonly record struct ProcessResult(int ExitCode, string StandardOutput, string StandardError);
}

/// <summary>Thrown when the test PostgreSQL server cannot be prepared, started or stopped.</summary>
public sealed class PostgresServerException : Exception
{
    public PostgresServerException(string message)
        : base(message)
    {
    }

    public PostgresServerException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Finds <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c>: on the PATH, else in /usr/lib/postgresql/*/bin (newest first).</summary>
internal sealed record PostgresBinaries(string InitDb, string PgCtl, string Postgres)
{
    private static readonly Lazy<PostgresBinaries?> Cached = new(FindCore);

    /// <summary>C.UTF-8 when the machine has it (ctype for non-ASCII text), else C.</summary>
    public static string Locale { get; } = Directory.Exists("/usr/lib/locale/C.utf8") || Directory.Exists("/usr/lib/locale/C.UTF-8") ? "C.UTF-8" : "C";

    public bool HasPgStatStatements => PgStatStatementsLibrary is not null;

    private string? PgStatStatementsLibrary
    {
        get
        {
            // Binaries live in .../<version>/bin, libraries in .../<version>/lib (Debian layout).
            var real = ResolveLink(Postgres);
            var versionDir = Path.GetDirectoryName(Path.GetDirectoryName(real));
            if (versionDir is null)
            {
                return null;
            }

            var candidate = Path.Combine(versionDir, "lib", "pg_stat_statements.so");
            return File.Exists(candidate) ? candidate : null;
        }
    }

    public static PostgresBinaries? Find() => Cached.Value;

    /// <summary>Static check used by <see cref="PostgresFactAttribute"/>: is <c>initdb</c> anywhere we look?</summary>
    public static bool InitDbExists() => Find() is not null || FindOnPath("initdb") is not null;

    private static PostgresBinaries? FindCore()
    {
        var initdb = FindOnPath("initdb");
        var pgctl = FindOnPath("pg_ctl");
        var postgres = FindOnPath("postgres");
        if (initdb is not null && pgctl is not null && postgres is not null)
        {
            return new PostgresBinaries(initdb, pgctl, postgres);
        }

        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        var versions = Directory.GetDirectories(root)
            .Select(dir => (Dir: dir, Version: double.TryParse(Path.GetFileName(dir), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0))
            .OrderByDescending(x => x.Version);
        foreach (var (dir, _) in versions)
        {
            var bin = Path.Combine(dir, "bin");
            string Exe(string name) => Path.Combine(bin, name);
            if (IsExecutable(Exe("initdb")) && IsExecutable(Exe("pg_ctl")) && IsExecutable(Exe("postgres")))
            {
                return new PostgresBinaries(Exe("initdb"), Exe("pg_ctl"), Exe("postgres"));
            }
        }

        return null;
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        return (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    private static string ResolveLink(string path)
    {
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true);
            return target?.FullName ?? path;
        }
        catch (IOException)
        {
            return path;
        }
    }
}
