using DbCore.Tests.Observability;
using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Sqlite;

/// <summary>Dispose is exception-safe and happens once: the connection is always returned and the counters never drift.</summary>
public sealed class SessionLifetimeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-lifetime-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private Local Create(string name)
    {
        var settings = new LocalSettings { ConnectionString = $"Data Source={Path.Combine(_directory, name + ".db")}" };
        settings.Retry.BaseDelayMilliseconds = 1;
        return new Local(settings, "Production");
    }

    [Fact]
    public async Task Throwing_transaction_dispose_still_returns_the_connection()
    {
        await using Local db = Create("txdispose");
        SqliteConnection? connection = null;

        // The work ends the transaction behind the provider's back, so its rollback and dispose throw "no transaction is active".
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            connection = session.Connection;
            await using SqliteCommand rollback = session.CreateCommand("ROLLBACK");
            await rollback.ExecuteNonQueryAsync(ct);
            throw new InvalidOperationException("business rule");
        }));

        Assert.Equal("business rule", ex.Message); // the work's exception, not the dispose's
        Assert.Equal(0, db.GetPoolStatistics().InUse);

        // Returned: the connection (in autocommit again) waits open for the next session, which gets it and works.
        Assert.Equal(System.Data.ConnectionState.Open, connection!.State);
        Assert.Same(connection, await db.ExecuteAsync((session, ct) => Task.FromResult(session.Connection)));
        await db.DisposeAsync();
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
    }

    [Fact]
    public async Task Dispose_racing_DisposeAsync_releases_the_session_once()
    {
        await using Local db = Create("race");
        for (int i = 0; i < 300; i++)
        {
            LocalSession session = await db.OpenSessionAsync();
            using var start = new Barrier(2);
            Task sync = Task.Run(() =>
            {
                start.SignalAndWait();
                session.Dispose();
            });
            Task async = Task.Run(async () =>
            {
                start.SignalAndWait();
                await session.DisposeAsync();
            });
            await Task.WhenAll(sync, async);
            Assert.Equal(0, db.GetPoolStatistics().InUse);
        }
    }
}

/// <summary>
/// The session gauge seen by a listener attached mid-flight. Runs alone (no parallel test): whether a session counted
/// itself at open depends on every listener of the process, and another test's OpenTelemetry provider would count it.
/// </summary>
[Collection(Configuration.ProcessEnvironmentCollection.Name)]
public sealed class ActiveSessionGaugeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-gauge-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private Local Create(string name)
    {
        var settings = new LocalSettings { ConnectionString = $"Data Source={Path.Combine(_directory, name + ".db")}" };
        settings.Retry.BaseDelayMilliseconds = 1;
        return new Local(settings, "Production");
    }

    [Fact]
    public async Task Active_sessions_never_go_negative_for_a_listener_attached_mid_flight()
    {
        await using Local db = Create("midflight");
        string file = Path.Combine(_directory, "midflight.db");
        LocalSession session = await db.OpenSessionAsync();

        using var metrics = new MetricCapture(); // attached while the session is open
        await session.DisposeAsync();
        await db.ExecuteAsync(static (_, _) => Task.CompletedTask);

        double[] active = [.. metrics.For("dbcore.session.active", file).Select(m => m.Value)];
        Assert.Equal([1, -1], active);
    }
}
