using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// Process helpers for the scale-out fixtures (a standby, PgBouncer): run a binary as the <c>postgres</c> user when this
/// process is root (PostgreSQL and PgBouncer both refuse root), make directories that user owns, pick free loopback ports.
/// </summary>
internal static class ScaleOutProcess
{
    public const string ServiceUser = PostgresServer.SuperUser;

    public static bool IsRoot { get; } = Environment.UserName == "root";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>A binary next to <c>pg_ctl</c> (e.g. <c>pg_basebackup</c>), so the cluster and its tools share one version.</summary>
    public static string? FindPostgresTool(string name)
    {
        if (PostgresBinaries.Find() is not { } binaries)
        {
            return null;
        }

        string pgCtl = binaries.PgCtl;
        try
        {
            pgCtl = File.ResolveLinkTarget(pgCtl, returnFinalTarget: true)?.FullName ?? pgCtl;
        }
        catch (IOException)
        {
        }

        string sibling = Path.Combine(Path.GetDirectoryName(pgCtl)!, name);
        return File.Exists(sibling) ? sibling : FindExecutable(name);
    }

    /// <summary>On the PATH, else in /usr/sbin or /usr/bin (where Debian puts pgbouncer).</summary>
    public static string? FindExecutable(string name)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin"]);
        return dirs.Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>A fresh directory under /tmp, mode 0700, owned by <c>postgres</c> when running as root.</summary>
    public static async Task<string> CreateServiceDirectoryAsync(string prefix)
    {
        string path = Path.Combine(Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath(), $"dbcore-{prefix}-{Guid.NewGuid():N}"[..30]);
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (IsRoot)
        {
            await RunAsync("chown", [ServiceUser + ":" + ServiceUser, path], TimeSpan.FromSeconds(10), asServiceUser: false);
        }

        return path;
    }

    /// <summary>Writes a file the service user can read (owned by it when running as root).</summary>
    public static async Task WriteServiceFileAsync(string path, string contents)
    {
        await File.WriteAllTextAsync(path, contents);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        if (IsRoot)
        {
            await RunAsync("chown", [ServiceUser + ":" + ServiceUser, path], TimeSpan.FromSeconds(10), asServiceUser: false);
        }
    }

    public static ProcessStartInfo CreateStartInfo(string fileName, IReadOnlyList<string> args, bool asServiceUser)
    {
        var startInfo = new ProcessStartInfo(asServiceUser && IsRoot ? "runuser" : fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/tmp",
        };
        if (asServiceUser && IsRoot)
        {
            foreach (string arg in (string[])["-u", ServiceUser, "--", fileName])
            {
                startInfo.ArgumentList.Add(arg);
            }
        }

        foreach (string arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        foreach (string key in startInfo.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(key);
        }

        startInfo.Environment["LC_ALL"] = PostgresBinaries.Locale;
        return startInfo;
    }

    /// <summary>Runs to completion within <paramref name="timeout"/>; throws with the output on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string fileName, IReadOnlyList<string> args, TimeSpan timeout, bool asServiceUser = true, string? redact = null)
    {
        using var process = new Process { StartInfo = CreateStartInfo(fileName, args, asServiceUser) };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new PostgresServerException(Redact($"'{fileName} {string.Join(' ', args)}' timed out after {timeout.TotalSeconds:0} s: {Snapshot(output)}", redact));
        }

        string text = Snapshot(output);
        if (process.ExitCode != 0)
        {
            throw new PostgresServerException(Redact($"'{fileName} {string.Join(' ', args)}' exited with {process.ExitCode}: {text}", redact));
        }

        return text;
    }

    public static int GetFreeLoopbackPort()
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

    /// <summary>Waits until something accepts TCP connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<bool> WaitForPortAsync(int port, TimeSpan timeout, Func<bool>? stillRunning = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout && (stillRunning?.Invoke() ?? true))
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }

    public static string ReadTail(string path, int lines = 20)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return string.Join('\n', reader.ReadToEnd().Split('\n').TakeLast(lines));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static void TryDeleteDirectory(string? path)
    {
        if (path is null)
        {
            return;
        }

        for (int attempt = 0; attempt < 3; attempt++)
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

    private static string Snapshot(StringBuilder builder)
    {
        lock (builder)
        {
            return builder.ToString().Trim();
        }
    }

    private static string Redact(string text, string? secret)
        => secret is { Length: > 0 } ? text.Replace(secret, "********", StringComparison.Ordinal) : text;
}
