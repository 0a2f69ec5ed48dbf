using System.Diagnostics;
using DbCore.Tests.Failover;

namespace Soak;

/// <summary>
/// <c>--failover</c>: starts the test suite's pg_auto_failover formation (monitor + two nodes on loopback), runs the bank
/// transfers through its multi-host URI for the given duration while a failover and a killed primary postmaster happen
/// about every 20 s, and prints the same figures as DbCore.Tests/Failover. Exit code 0 only if the invariants held and
/// no untyped error surfaced.
/// </summary>
internal static class FailoverSoak
{
    private const int Workers = 16;

    public static async Task<int> RunAsync(int seconds, bool verified)
    {
        await using var cluster = new ClusterLifetime(new AutoFailoverCluster
        {
            Log = line => Console.WriteLine("formation: " + line),
            KeepLogsIn = Path.Combine(Path.GetTempPath(), "dbcore-soak-failover-logs"),
        });
        await cluster.Cluster.InitializeAsync();
        cluster.Cluster.EnsureAvailable();
        string database = await FailoverBank.CreateDatabaseAsync(cluster.Cluster, "soak_failover");

        var settings = new BankSettings { ConnectionString = cluster.Cluster.ConnectionStringFor(database) };
        settings.Retry.MaxAttempts = 10;
        settings.Retry.BaseDelayMilliseconds = 100;
        settings.Retry.MaxDelayMilliseconds = 2000;
        await using var db = new Bank(settings, "Production", null);

        var clock = Stopwatch.StartNew();
        TimeSpan duration = TimeSpan.FromSeconds(seconds);
        FailoverFigures figures = await FailoverBank.RunAsync(cluster.Cluster, db, database, verified, Workers, async note =>
        {
            // A cycle (pause, failover, kill, restart) takes about 20 s; start one only if it can end within the run.
            while (clock.Elapsed + TimeSpan.FromSeconds(25) < duration)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                await FailoverBank.FailoverThenKillPrimaryAsync(cluster.Cluster, note);
            }

            TimeSpan left = duration - clock.Elapsed;
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left);
            }
        }, tail: TimeSpan.Zero);

        Console.WriteLine($"formation started in {cluster.Cluster.StartupTime.TotalSeconds:0.0} s (pg_autoctl logs kept in {cluster.Cluster.KeepLogsIn})");
        Console.Write(figures.ToText());
        Console.WriteLine();
        Console.WriteLine(figures.ToMarkdown());
        return figures.InvariantsHeld && figures.UntypedTotal == 0 ? 0 : 1;
    }

    /// <summary>Disposes the formation (stops every process it started) however the run ends.</summary>
    private sealed class ClusterLifetime(AutoFailoverCluster cluster) : IAsyncDisposable
    {
        public AutoFailoverCluster Cluster { get; } = cluster;

        public async ValueTask DisposeAsync() => await Cluster.DisposeAsync();
    }
}
