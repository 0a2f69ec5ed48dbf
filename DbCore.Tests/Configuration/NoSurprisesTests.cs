using DbCore.Tests.Infrastructure;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbCore.Tests.Configuration;

/// <summary>
/// No configuration surprises: pool keywords written in the connection string are honoured over the profile and logged,
/// and a pinned provider needs no literal default (the key is then required, and a missing one names the keys tried).
/// </summary>
public sealed class NoSurprisesTests
{
    private const string Cs = "Host=127.0.0.1;Database=app;Username=app";

    private static (Pg Db, LogCollector Logs) Create(string connectionString, Action<PgSettings>? configure = null)
    {
        var logs = new LogCollector();
        var settings = new PgSettings { ConnectionString = connectionString };
        configure?.Invoke(settings);
        return (new Pg(settings, "Production", logs), logs);
    }

    private static NpgsqlConnectionStringBuilder Built(Pg db) => new(db.DataSource.ConnectionString);

    [Fact]
    public async Task Maximum_Pool_Size_in_the_connection_string_is_honoured_over_the_profile_and_logged()
    {
        (Pg db, LogCollector logs) = Create(Cs + ";Maximum Pool Size=18");
        await using (db)
        {
            Assert.Equal(18, db.Pool.MaxSize);                // Production profile: 10 + 20 = 30
            Assert.Equal(10, db.Pool.Size);
            Assert.Equal(18, Built(db).MaxPoolSize);
            Assert.Contains(logs.Records, e => e.Level == LogLevel.Information && e.Message.Contains("Maximum Pool Size=18 from the connection string (the Production profile says 30)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Every_pool_keyword_is_honoured()
    {
        (Pg db, _) = Create(Cs + ";Minimum Pool Size=2;Maximum Pool Size=4;Timeout=7;Connection Lifetime=600;Connection Idle Lifetime=60;Command Timeout=12");
        await using (db)
        {
            Assert.Equal((2, 4), (db.Pool.Size, db.Pool.MaxSize));
            Assert.Equal(TimeSpan.FromSeconds(7), db.Pool.AcquireTimeout);
            Assert.Equal(TimeSpan.FromSeconds(600), db.Pool.Recycle);
            Assert.Equal(TimeSpan.FromSeconds(60), db.Pool.Idle);
            Assert.Equal(TimeSpan.FromSeconds(12), db.Options.CommandTimeout);
            NpgsqlConnectionStringBuilder built = Built(db);
            Assert.Equal((2, 4, 7, 600, 60, 12), (built.MinPoolSize, built.MaxPoolSize, built.Timeout, built.ConnectionLifetime, built.ConnectionIdleLifetime, built.CommandTimeout));
        }
    }

    [Fact]
    public async Task Pool_keys_of_the_settings_overrule_the_connection_string_and_say_so()
    {
        (Pg db, LogCollector logs) = Create(Cs + ";Maximum Pool Size=18", s => s.Pool.MaxOverflow = 5);
        await using (db)
        {
            Assert.Equal(15, db.Pool.MaxSize);
            Assert.Contains(logs.Records, e => e.Message.Contains("Maximum Pool Size=18 in the connection string is overruled by Pool:MaxOverflow=15", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_maximum_below_the_size_fails_at_startup_naming_the_keyword()
    {
        var error = Assert.Throws<DatabaseConfigurationException>(() => Create(Cs + ";Maximum Pool Size=3"));
        Assert.Contains("Maximum Pool Size=3", error.Message, StringComparison.Ordinal);
        Assert.Contains("below the pool size 10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pinned_provider_without_a_default_requires_the_key_and_names_the_keys_tried()
    {
        var services = new ServiceCollection().AddRequired(new ConfigurationBuilder().Build());
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Required>());
        Assert.Equal("ConnectionStrings:Required", error.Key);
        Assert.Contains("No connection string is configured for Required", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Required or Required:ConnectionString, or the environment variable DBCORE_REQUIRED_TEST_URL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pinned_provider_without_a_default_starts_when_the_key_is_set()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Required"] = Cs }).Build();
        await using ServiceProvider provider = new ServiceCollection().AddRequired(configuration).BuildServiceProvider();
        Assert.Equal(DatabaseProvider.PostgreSql, provider.GetRequiredService<Required>().Provider);
    }
}
