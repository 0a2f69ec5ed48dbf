using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Npgsql;
using Xunit.Abstractions;

namespace DbCore.Tests.Resilience;

/// <summary>
/// A pooled connection that a firewall or load balancer forgot while it sat idle: the client's packets vanish and no reset
/// ever comes. DbCore's base connections are never pruned, so an application that is quiet for a few minutes can meet one
/// on its next request. The proxy here stops carrying the pooled connection's bytes without closing it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SilentDropTests(PostgresServer server, ITestOutputHelper output)
{
    [PostgresFact]
    public async Task A_pooled_connection_that_silently_went_dead_fails_one_unit_as_a_timeout_and_the_next_unit_gets_a_new_connection()
    {
        // From the client a dead link and a statement the server is still running look the same when the cancel request
        // is not answered in time either (a pooler that holds cancels, a starved server): Npgsql closes the connection in
        // both cases. So the unit is not run again blindly (a slow statement would run twice); it fails as a timeout,
        // nothing is committed, and the pool replaces the connection.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "silentdrop");
        await using var proxy = new DroppingProxy(new NpgsqlConnectionStringBuilder(cs).Port);
        await using Pg db = Resilient.OneConnectionBehind(proxy, cs, commandTimeoutSeconds: 2);
        await db.ExecuteAsync((session, ct) => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct));
        proxy.BlackholeOpenConnections();

        int attempts = 0;
        var ex = await Assert.ThrowsAsync<CommandTimeoutException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
        }));
        Assert.Equal(1, attempts);
        Assert.False(ex.IsTransient);

        await db.ExecuteAsync((session, ct) => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (3)", ct));
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs));
        Assert.Equal(0L, await Resilient.CountOrdersAsync(cs, "id = 2"));
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task With_Npgsql_keepalive_a_connection_that_silently_went_dead_is_found_while_idle_and_the_next_unit_runs_once()
    {
        // The remedy docs/resilience.md gives: Keepalive=N makes Npgsql check each idle connection every N seconds, so the
        // dead one is closed while nothing waits for it.
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "silentdropka");
        await using var proxy = new DroppingProxy(new NpgsqlConnectionStringBuilder(cs).Port);
        string proxied = new NpgsqlConnectionStringBuilder(Resilient.Proxied(cs, proxy)) { KeepAlive = 1 }.ConnectionString;
        await using Pg db = Resilient.Pg(proxied, configure: s =>
        {
            s.CommandTimeoutSeconds = 2;
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
        });
        await db.ExecuteAsync((session, ct) => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct));
        proxy.BlackholeOpenConnections();
        await Task.Delay(TimeSpan.FromSeconds(8)); // a keepalive goes unanswered and Npgsql closes the idle connection

        int attempts = 0;
        var clock = Stopwatch.StartNew();
        await db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
        });
        output.WriteLine($"committed in {clock.Elapsed.TotalMilliseconds:0} ms");

        Assert.Equal(1, attempts);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs));
    }
}
