using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Xunit.Abstractions;

namespace DbCore.Tests.Resilience;

/// <summary>
/// A pooled connection that a NAT, firewall or load balancer forgot while it sat idle: the client's packets vanish and no
/// reset ever comes (AWS NAT gateways and NLBs do this after 350 s idle, Azure's load balancer after 4 minutes). DbCore's
/// base connections are never pruned, so an application that is quiet for a few minutes meets one on its next request.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SilentDropTests(PostgresServer server, ITestOutputHelper output)
{
    [PostgresFact]
    public async Task A_pooled_connection_that_silently_went_dead_costs_one_attempt_and_the_unit_commits_on_a_new_one()
    {
        string cs = await Resilient.CreateOrdersDatabaseAsync(server, "silentdrop");
        await using var proxy = new DroppingProxy(new Npgsql.NpgsqlConnectionStringBuilder(cs).Port);
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(Resilient.Proxied(cs, proxy), logs, s =>
        {
            s.CommandTimeoutSeconds = 2;
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
        });
        await db.ExecuteAsync((session, ct) => Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (1)", ct));
        proxy.BlackholeOpenConnections(); // the pooled connection is dead now, and nothing tells the client so

        int attempts = 0;
        var clock = Stopwatch.StartNew();
        await db.ExecuteAsync(async (session, ct) =>
        {
            attempts++;
            await Resilient.NonQueryAsync(session, "INSERT INTO orders VALUES (2)", ct);
        });
        output.WriteLine($"committed after {clock.Elapsed.TotalSeconds:0.0} s, {attempts} attempts");

        Assert.Equal(2, attempts);
        Assert.Equal(2, await Resilient.CountOrdersAsync(cs));
        Assert.Equal("ConnectionFailureException", Assert.Single(logs.Named("Retrying"))["ErrorType"]);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
