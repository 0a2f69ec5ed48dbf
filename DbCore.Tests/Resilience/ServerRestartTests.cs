using System.Collections.Concurrent;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;

namespace DbCore.Tests.Resilience;

/// <summary>
/// Fault test (b): the server goes away and comes back while workers run. In its own class because it stops the shared
/// server: classes of one collection run one after another, so no other test sees the outage.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ServerRestartTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Health_turns_false_then_true_and_work_resumes_without_a_new_accessor()
    {
        string cs = await server.CreateDatabaseAsync("restart");
        await Resilient.AdminAsync(cs, "CREATE TABLE events (id bigint PRIMARY KEY)");
        var logs = new LogCollector();
        await using Pg db = Resilient.Pg(cs, logs, s =>
        {
            s.Retry.MaxAttempts = 10;
            s.Retry.BaseDelayMilliseconds = 100;
            s.Retry.MaxDelayMilliseconds = 1000;
            s.HealthTimeoutSeconds = 2;
        });

        long next = 0;
        var succeeded = new ConcurrentBag<long>();
        var unknown = new ConcurrentBag<long>();
        var surfaced = new ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();
        Task[] workers = [.. Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                long id = Interlocked.Increment(ref next);
                try
                {
                    await db.ExecuteVerifiedAsync(async (session, ct) =>
                    {
                        await Resilient.NonQueryAsync(session, $"INSERT INTO events VALUES ({id})", ct);
                        await Task.Delay(5, ct);
                    });
                    succeeded.Add(id);
                }
                catch (CommitOutcomeUnknownException)
                {
                    unknown.Add(id);
                }
                catch (Exception ex)
                {
                    surfaced.Enqueue(ex);
                }
            }
        }))];

        await Task.Delay(500);
        Assert.True(await db.CheckHealthAsync());

        await server.StopAsync();
        bool healthWhileDown = await db.CheckHealthAsync();
        await server.StartAsync();
        bool healthy = await Resilient.EventuallyAsync(() => db.CheckHealthAsync(), TimeSpan.FromSeconds(10));
        int afterFirstOutage = succeeded.Count;
        await Task.Delay(700);
        int afterResume = succeeded.Count;

        await server.RestartAsync();
        await Task.Delay(1500);
        int afterRestart = succeeded.Count;
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(healthWhileDown);
        Assert.True(healthy);
        Assert.True(afterResume > afterFirstOutage, "no work after the server came back");
        Assert.True(afterRestart > afterResume, "no work after RestartAsync");
        Assert.NotEmpty(logs.Named("Retrying"));
        Assert.NotEmpty(logs.Named("HealthCheckFailed"));
        Assert.Empty(surfaced);
        long count = (long)(await Resilient.AdminAsync(cs, "SELECT count(*) FROM events"))!;
        Assert.InRange(count, succeeded.Count, succeeded.Count + unknown.Count);
        Assert.Equal(0, db.GetPoolStatistics().InUse);
    }
}
