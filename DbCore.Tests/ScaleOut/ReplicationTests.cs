using System.Diagnostics;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Xunit.Abstractions;
using static DbCore.Tests.ScaleOut.ScaleOutSupport;

namespace DbCore.Tests.ScaleOut;

/// <summary>
/// Read-only sessions on a primary + streaming standby topology. The standby-down test stops and restarts the shared
/// standby; tests of one collection run one after another, so no other test sees the outage.
/// </summary>
[Collection(ReplicationCollection.Name)]
public sealed class ReplicationTests(ReplicationTopology topology, ITestOutputHelper output)
{
    [PostgresFact]
    public async Task Read_only_sessions_land_on_the_standby_and_writes_on_the_primary()
    {
        string database = await topology.CreateDatabaseAsync("replica");
        await using Pg db = Pg(topology.MultiHostConnectionString(database));

        Placement write = await db.ExecuteAsync(async (session, ct) =>
        {
            await NonQueryAsync(session, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1)", ct);
            return await PlacementAsync(session, ct);
        });
        await topology.WaitForReplayAsync();

        (Placement read, long count) = await db.ExecuteReadOnlyAsync(async (session, ct)
            => (await PlacementAsync(session, ct), await ScalarAsync<long>(session, "SELECT count(*) FROM items", ct)));

        Assert.Equal(new Placement(false, false, topology.Primary.Port, write.BackendPid), write);
        Assert.True(read.InRecovery);
        Assert.True(read.ReadOnly);
        Assert.Equal(topology.StandbyPort, read.Port);
        Assert.Equal(1, count);

        await using (PgSession session = await db.OpenReadOnlySessionAsync())
        {
            Assert.True((await PlacementAsync(session)).InRecovery);
            Assert.Equal(1, db.GetPoolStatistics().InUse);
        }

        PoolStatistics stats = db.GetPoolStatistics();
        Assert.Equal(0, stats.InUse);
        Assert.Equal(3, stats.TotalOpened);
    }

    [PostgresFact]
    public async Task Write_in_a_read_only_session_fails_with_25006_and_is_not_retried()
    {
        string database = await topology.CreateDatabaseAsync("rowrite");
        await using Pg db = Pg(topology.MultiHostConnectionString(database));
        await db.ExecuteAsync((session, ct) => NonQueryAsync(session, "CREATE TABLE items (id int)", ct));
        await topology.WaitForReplayAsync();

        int attempts = 0;
        DbCoreException ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteReadOnlyAsync((session, ct) =>
        {
            attempts++;
            return NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct);
        }));

        Assert.Equal("25006", ex.SqlState);
        Assert.False(ex.IsTransient);
        Assert.Equal(1, attempts);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }

    [PostgresFact]
    public async Task Write_unit_on_a_single_host_that_is_read_only_is_not_retried()
    {
        // 25006 in a write unit is retried only with several hosts, where it means the unit reached a primary being demoted
        // and asking the hosts again finds the promoted one (AutoFailoverTests). With one host (a standby, or a server made
        // read-only) there is nothing else to find.
        string database = await topology.CreateDatabaseAsync("rwstandby");
        await using (Pg primary = Pg(topology.MultiHostConnectionString(database)))
        {
            await primary.ExecuteAsync((session, ct) => NonQueryAsync(session, "CREATE TABLE items (id int)", ct));
        }

        await topology.WaitForReplayAsync();
        await using Pg db = Pg(topology.StandbyConnectionString(database), s => s.Retry.MaxAttempts = 3);

        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteAsync((session, ct) => NonQueryAsync(session, "INSERT INTO items VALUES (1)", ct)));

        Assert.Equal("25006", ex.SqlState);
        Assert.False(ex.IsTransient);
        Assert.Equal(1, ex.Attempts);
    }

    [PostgresFact]
    public async Task Single_host_read_only_sessions_share_the_pool_and_the_read_only_flag_does_not_leak()
    {
        string connectionString = await topology.Primary.CreateDatabaseAsync("single");
        await using Pg db = Pg(connectionString, s => s.Pool.MaxOverflow = 1);

        Placement read = await db.ExecuteReadOnlyAsync((session, ct) => PlacementAsync(session, ct));
        Placement write = await db.ExecuteAsync(async (session, ct) =>
        {
            await NonQueryAsync(session, "CREATE TABLE items (id int)", ct);
            return await PlacementAsync(session, ct);
        });

        Assert.True(read.ReadOnly);
        Assert.False(read.InRecovery);
        Assert.False(write.ReadOnly);
        Assert.Equal(read.BackendPid, write.BackendPid); // one pool of at most one connection: the same backend
        Assert.Equal(2, db.GetPoolStatistics().TotalOpened);
    }

    [PostgresFact]
    public async Task Read_only_sessions_fall_back_to_the_primary_while_the_standby_is_down()
    {
        string database = await topology.CreateDatabaseAsync("fallback");
        await using Pg db = Pg(topology.MultiHostConnectionString(database));
        Assert.True((await db.ExecuteReadOnlyAsync((session, ct) => PlacementAsync(session, ct))).InRecovery);

        await topology.StopStandbyAsync();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            // The pooled connection to the standby is dead: the first attempt fails on it, the retry finds the primary.
            Placement read = await db.ExecuteReadOnlyAsync((session, ct) => PlacementAsync(session, ct));
            Placement again = await db.ExecuteReadOnlyAsync((session, ct) => PlacementAsync(session, ct));
            output.WriteLine($"fallback took {stopwatch.ElapsedMilliseconds} ms");

            Assert.Equal(topology.Primary.Port, read.Port);
            Assert.False(read.InRecovery);
            Assert.True(read.ReadOnly);
            Assert.Equal(topology.Primary.Port, again.Port);
            Assert.True(await db.CheckHealthAsync());
        }
        finally
        {
            await topology.StartStandbyAsync();
        }

        await topology.WaitForReplayAsync();
    }

    /// <summary>
    /// With a real standby in the host list, one killed primary backend costs one reconnect too: Npgsql marks the primary
    /// offline in the broken connection's data source on the break, which in a slot of one connection would send the retry
    /// to the standby ("No suitable host") and clear the pool; DbCore forgets that one mark.
    /// </summary>
    [PostgresFact]
    public async Task One_killed_primary_backend_costs_one_reconnect_with_a_standby_in_the_host_list()
    {
        string database = await topology.CreateDatabaseAsync("onekillha");
        var logs = new LogCollector();
        await using Pg db = DbCore.Tests.Resilience.Resilient.Pg(topology.MultiHostConnectionString(database), logs, s =>
        {
            s.Pool.Size = 10;
            s.Pool.MaxOverflow = 0;
        });
        Assert.Equal(10, await db.WarmUpAsync());
        string primary = new Npgsql.NpgsqlConnectionStringBuilder(topology.MultiHostConnectionString(database)) { Host = topology.Primary.Host, Port = topology.Primary.Port }.ConnectionString;
        const string Backends = "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
        string before = (string)(await DbCore.Tests.Resilience.Resilient.AdminAsync(primary, Backends))!;
        int runs = 0;

        await db.ExecuteAsync(async (session, ct) =>
        {
            runs++;
            int pid = await ScalarAsync<int>(session, "SELECT pg_backend_pid()", ct);
            if (runs == 1)
            {
                await DbCore.Tests.Resilience.Resilient.AdminAsync(primary, $"SELECT pg_terminate_backend({pid})");
            }

            Assert.False((await PlacementAsync(session, ct)).InRecovery); // the retry lands on the primary again
        });
        await Task.Delay(200);
        string after = (string)(await DbCore.Tests.Resilience.Resilient.AdminAsync(primary, Backends))!;

        HashSet<string> kept = [.. before.Split(',')];
        kept.IntersectWith(after.Split(','));
        output.WriteLine($"primary backends before: {before}; after: {after}");
        Assert.Equal(2, runs);
        Assert.Empty(logs.Named("PoolCleared"));
        Assert.Equal(9, kept.Count);
    }
}

/// <summary>
/// Failover: stops the primary and promotes the standby of a topology of its own (it cannot be undone), then shows writes
/// resume on the promoted server through the same accessor once health is green.
/// </summary>
[Collection(ReplicationCollection.Name)]
public sealed class FailoverTests(ITestOutputHelper output)
{
    [PostgresFact]
    public async Task Write_issued_while_the_primary_is_down_rides_out_the_promotion_without_a_new_accessor()
    {
        var total = Stopwatch.StartNew();
        var topology = new ReplicationTopology();
        await topology.InitializeAsync();
        output.WriteLine($"topology up in {total.ElapsedMilliseconds} ms");
        try
        {
            string database = await topology.CreateDatabaseAsync("failover");
            await using Pg db = Pg(topology.MultiHostConnectionString(database), s =>
            {
                s.Retry.MaxAttempts = 10;
                s.Retry.BaseDelayMilliseconds = 200;
                s.Retry.MaxDelayMilliseconds = 1000;
            });
            await db.ExecuteAsync((session, ct) => NonQueryAsync(session, "CREATE TABLE items (id int); INSERT INTO items VALUES (1)", ct));
            await topology.WaitForReplayAsync();
            Assert.True(await db.CheckHealthAsync());
            Assert.True((await db.ExecuteReadOnlyAsync((session, ct) => PlacementAsync(session, ct))).InRecovery); // the standby is known as one

            output.WriteLine($"primary stopping at {total.ElapsedMilliseconds} ms");
            await topology.Primary.StopAsync();
            Assert.False(await db.CheckHealthAsync());

            // A write issued while no host is primary rides out the promotion: "no suitable host" is a transient
            // connection failure, retried within the budget (here up to 10 attempts, 200 ms .. 1 s apart).
            int runs = 0;
            var stopwatch = Stopwatch.StartNew();
            Task<(Placement Placement, long Count)> write = db.ExecuteAsync(async (session, ct) =>
            {
                runs++;
                await NonQueryAsync(session, "INSERT INTO items VALUES (2)", ct);
                return (await PlacementAsync(session, ct), await ScalarAsync<long>(session, "SELECT count(*) FROM items", ct));
            });
            await Task.Delay(1000);
            Assert.False(write.IsCompleted, "the write cannot succeed before the promotion");
            output.WriteLine($"promoting at {total.ElapsedMilliseconds} ms");
            await topology.PromoteStandbyAsync();
            (Placement placement, long count) = await write;
            output.WriteLine($"write acknowledged {stopwatch.ElapsedMilliseconds} ms after it was issued, after {runs} run(s) of the work");

            Assert.True(await db.CheckHealthAsync());
            Assert.Equal(topology.StandbyPort, placement.Port);
            Assert.False(placement.InRecovery);
            Assert.Equal(2, count);
            Assert.Equal(0, db.GetPoolStatistics().InUse);
        }
        finally
        {
            await topology.DisposeAsync();
        }
    }
}
