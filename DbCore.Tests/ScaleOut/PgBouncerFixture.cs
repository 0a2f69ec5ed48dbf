using System.Diagnostics;
using System.Globalization;
using DbCore.Tests.Infrastructure;
using Npgsql;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// PgBouncer (the Debian package, 1.18 here) in transaction mode in front of a <see cref="PostgresServer"/> of its own,
/// run as the <c>postgres</c> user (it refuses root) with its configuration in a temp directory: md5 authentication from a
/// userlist, 127.0.0.1 on a free port, every database (<c>*</c>) forwarded, and one server connection per database so
/// that two clients provably share a server connection. Kills PgBouncer, stops the server and deletes both directories
/// on dispose. Fails in CI (<c>CI=true</c>) when PgBouncer is missing or does not start, like the PostgreSQL fixtures.
/// </summary>
public sealed class PgBouncerFixture : IAsyncLifetime
{
    private string? _root;
    private Process? _process;
    private EventHandler? _processExitHandler;

    public PostgresServer Server { get; } = new();

    public int Port { get; private set; }

    public bool IsAvailable { get; private set; }

    public string? UnavailableReason { get; private set; }

    /// <summary>"PgBouncer 1.18.0".</summary>
    public string Version { get; private set; } = "";

    private string LogPath => Path.Combine(_root!, "pgbouncer.log");

    public async Task InitializeAsync()
    {
        try
        {
            string pgbouncer = ScaleOutProcess.FindExecutable("pgbouncer")
                ?? throw new PostgresServerException(PgBouncerRequirement.MissingMessage);
            await Server.InitializeAsync();
            Server.EnsureAvailable();

            Version = (await ScaleOutProcess.RunAsync(pgbouncer, ["--version"], TimeSpan.FromSeconds(10))).Split('\n')[0].Trim();
            _root = await ScaleOutProcess.CreateServiceDirectoryAsync("pgbouncer");
            _processExitHandler = (_, _) => Kill();
            AppDomain.CurrentDomain.ProcessExit += _processExitHandler;
            await ScaleOutProcess.WriteServiceFileAsync(Path.Combine(_root, "userlist.txt"), $"\"{PostgresServer.SuperUser}\" \"{Server.Password}\"\n");

            for (int attempt = 1; ; attempt++)
            {
                Port = ScaleOutProcess.GetFreeLoopbackPort();
                if (await TryStartAsync(pgbouncer))
                {
                    break;
                }

                if (attempt == 3)
                {
                    throw new PostgresServerException("PgBouncer did not start. Log:\n" + ScaleOutProcess.ReadTail(LogPath));
                }
            }

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

        Kill();
        ScaleOutProcess.TryDeleteDirectory(_root);
        await Server.DisposeAsync();
        IsAvailable = false;
    }

    public void EnsureAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException("PgBouncer is not available: " + (UnavailableReason ?? "not initialized"));
        }
    }

    /// <summary>Creates a database on the server and returns a connection string to it through PgBouncer.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        EnsureAvailable();
        var builder = new NpgsqlConnectionStringBuilder(await Server.CreateDatabaseAsync(prefix)) { Port = Port };
        configure?.Invoke(builder);
        return builder.ConnectionString;
    }

    private async Task<bool> TryStartAsync(string pgbouncer)
    {
        string config = Path.Combine(_root!, "pgbouncer.ini");
        await ScaleOutProcess.WriteServiceFileAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            * = host={Server.Host} port={Server.Port}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {Port}
            unix_socket_dir =
            auth_type = md5
            auth_file = {_root}/userlist.txt
            pool_mode = transaction
            default_pool_size = 1
            query_wait_timeout = 2
            query_timeout = 3
            max_client_conn = 100
            logfile = {LogPath}
            pidfile = {_root}/pgbouncer.pid
            """));

        _process = Process.Start(ScaleOutProcess.CreateStartInfo(pgbouncer, [config], asServiceUser: true))!;
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (await ScaleOutProcess.WaitForPortAsync(Port, TimeSpan.FromSeconds(10), () => !_process.HasExited))
        {
            return true;
        }

        Kill();
        return false;
    }

    private void Kill()
    {
        Process? process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            process.Dispose();
        }
    }
}

/// <summary>The PgBouncer tests share one PgBouncer (and its server) and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PgBouncerCollection : ICollectionFixture<PgBouncerFixture>
{
    public const string Name = "ScaleOut.PgBouncer";
}

/// <summary>
/// A <see cref="FactAttribute"/> for tests that need PgBouncer and PostgreSQL: skipped when either is not installed,
/// except in CI (<c>CI=true</c>), where the fixture then fails the run.
/// </summary>
public sealed class PgBouncerFactAttribute : FactAttribute
{
    public PgBouncerFactAttribute()
    {
        if ((PostgresRequirement.SkipReason ?? PgBouncerRequirement.SkipReason) is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class PgBouncerRequirement
{
    public const string MissingMessage = "pgbouncer not found; install the Debian package pgbouncer (apt-get install -y pgbouncer)";

    private static readonly Lazy<string?> Reason = new(() =>
        ScaleOutProcess.FindExecutable("pgbouncer") is not null || ScaleOutProcess.IsCi ? null : MissingMessage);

    public static string? SkipReason => Reason.Value;
}
