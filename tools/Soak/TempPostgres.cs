using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Soak;

/// <summary>
/// A throwaway PostgreSQL cluster, started the way the test fixture does it: initdb in a temp directory (as the
/// <c>postgres</c> user when running as root), listening on 127.0.0.1 on a free port, fsync off.
/// </summary>
internal sealed class TempPostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _pgCtl;
    private readonly bool _asPostgres;

    private TempPostgres(string root, string pgCtl, bool asPostgres, int port, string password)
    {
        _root = root;
        _pgCtl = pgCtl;
        _asPostgres = asPostgres;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Password={password};Database=postgres";
    }

    public string ConnectionString { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    public static async Task<TempPostgres> StartAsync()
    {
        string bin = FindBin() ?? throw new InvalidOperationException("initdb/pg_ctl not found on the PATH or in /usr/lib/postgresql/*/bin; pass a connection string instead.");
        bool asPostgres = Environment.UserName == "root";
        string root = Path.Combine(Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath(), "dbcore-soak-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        string password = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24);
        string pwfile = Path.Combine(root, "pwfile");
        await File.WriteAllTextAsync(pwfile, password + "\n");
        if (asPostgres)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", root], false);
        }

        int port = FreePort();
        var server = new TempPostgres(root, Path.Combine(bin, "pg_ctl"), asPostgres, port, password);
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", server.DataDirectory, "-U", "postgres", "--auth=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--no-sync"], asPostgres);
        File.Delete(pwfile);
        string options = $"-c listen_addresses=127.0.0.1 -p {port} -k '{root}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
        await RunAsync(server._pgCtl, ["-D", server.DataDirectory, "-l", Path.Combine(root, "server.log"), "-w", "-t", "30", "-o", options, "start"], asPostgres);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsync(_pgCtl, ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"], _asPostgres);
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string? FindBin()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                return dir;
            }
        }

        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> args, bool asPostgres)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres)
        {
            foreach (string a in new[] { "-u", "postgres", "--", file })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
