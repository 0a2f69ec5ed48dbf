using DbCore.Tests.TestSettings;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DbCore.Tests.Configuration;

public sealed class ConfigurationTests
{
    private const string Secret = "S3cr3t-Pa55";

    internal static IConfiguration Config(Dictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static DatabaseConfigurationException ResolveFails(Dictionary<string, string?> values, Action<DatabaseSettings>? configure = null)
    {
        var services = new ServiceCollection().AddDatabase(Config(values), configure);
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Database>());
        Assert.DoesNotContain(Secret, error.ToString());
        return error;
    }

    [Fact]
    public void Connection_string_precedence_is_delegate_then_named_connection_string_then_section_then_default()
    {
        Assert.Equal("Data Source=:memory:", Database.BindSettings(null).ConnectionString);
        Assert.Equal("Data Source=section.db", Database.BindSettings(Config(new() { ["Database:ConnectionString"] = "Data Source=section.db" })).ConnectionString);

        var both = Config(new() { ["Database:ConnectionString"] = "Data Source=section.db", ["ConnectionStrings:Database"] = "Data Source=named.db" });
        Assert.Equal("Data Source=named.db", Database.BindSettings(both).ConnectionString);
        Assert.Equal("Data Source=delegate.db", Database.BindSettings(both, s => s.ConnectionString = "Data Source=delegate.db").ConnectionString);
    }

    [Fact]
    public void Other_values_precedence_is_delegate_then_section_then_profile()
    {
        using var fromProfile = new Database(Database.BindSettings(null), "Development");
        Assert.Equal(5, fromProfile.Pool.Size);

        using var fromSection = new Database(Database.BindSettings(Config(new() { ["Database:Pool:Size"] = "7" })), "Development");
        Assert.Equal(7, fromSection.Pool.Size);
        Assert.Equal(17, fromSection.Pool.MaxSize);

        using var fromDelegate = new Database(Database.BindSettings(Config(new() { ["Database:Pool:Size"] = "7" }), s => s.Pool.Size = 8), "Development");
        Assert.Equal(8, fromDelegate.Pool.Size);
    }

    [Fact]
    public void Every_key_of_the_table_binds()
    {
        var configuration = Config(new()
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:Pool:Size"] = "3",
            ["Database:Pool:MaxOverflow"] = "4",
            ["Database:Pool:AcquireTimeoutSeconds"] = "12",
            ["Database:Pool:RecycleSeconds"] = "0",
            ["Database:Pool:IdleSeconds"] = "45",
            ["Database:Pool:WarmUp"] = "true",
            ["Database:Retry:MaxAttempts"] = "5",
            ["Database:Retry:BaseDelayMilliseconds"] = "10",
            ["Database:Retry:MaxDelayMilliseconds"] = "100",
            ["Database:CommandTimeoutSeconds"] = "0",
            ["Database:HealthTimeoutSeconds"] = "2",
            ["Database:ApplicationTag"] = "tag-1",
            ["Database:MaxRows"] = "250",
        });
        DatabaseSettings settings = Database.BindSettings(configuration);
        Assert.Equal("tag-1", settings.ApplicationTag);
        Assert.Equal(250, settings.MaxRows);

        using var db = new Database(settings, "Development");
        Assert.Equal(DatabaseProvider.Sqlite, db.Provider);
        Assert.Equal(3, db.Pool.Size);
        Assert.Equal(4, db.Pool.MaxOverflow);
        Assert.Equal(7, db.Pool.MaxSize);
        Assert.Equal(TimeSpan.FromSeconds(12), db.Pool.AcquireTimeout);
        Assert.Equal(TimeSpan.Zero, db.Pool.Recycle);
        Assert.Equal(TimeSpan.FromSeconds(45), db.Pool.Idle);
        Assert.True(db.Pool.WarmUp);
        Assert.Equal(5, db.Options.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(10), db.Options.Retry.BaseDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(100), db.Options.Retry.MaxDelay);
        Assert.Equal(TimeSpan.Zero, db.Options.CommandTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), db.Options.HealthTimeout);
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        using var db = new Database(Database.BindSettings(null), "Development");
        Assert.Equal(DatabaseProvider.Sqlite, db.Provider);
        Assert.Equal(TimeSpan.FromSeconds(30), db.Pool.AcquireTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3600), db.Pool.Recycle);
        Assert.Equal(TimeSpan.FromSeconds(300), db.Pool.Idle);
        Assert.False(db.Pool.WarmUp);
        Assert.Equal(1, db.Options.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(50), db.Options.Retry.BaseDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), db.Options.Retry.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), db.Options.CommandTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), db.Options.HealthTimeout);
    }

    [Theory]
    [InlineData("postgres://app:S3cr3t-Pa55@127.0.0.1:5433/shop", "127.0.0.1", 5433, "shop")]
    [InlineData("postgresql://app:S3cr3t-Pa55@127.0.0.1/shop", "127.0.0.1", 5432, "shop")]
    [InlineData("postgresql+asyncpg://app:S3cr3t-Pa55@127.0.0.1:6000/shop", "127.0.0.1", 6000, "shop")]
    public void Postgres_urls_become_npgsql_data_sources(string url, string host, int port, string database)
    {
        using var db = new Database(new DatabaseSettings { ConnectionString = url }, "Development");
        Assert.Equal(DatabaseProvider.PostgreSql, db.Provider);
        var built = new NpgsqlConnectionStringBuilder(((NpgsqlDataSource)db.DataSource).ConnectionString) { Password = null };
        Assert.Equal(host, built.Host);
        Assert.Equal(port, built.Port);
        Assert.Equal(database, built.Database);
        Assert.Equal("app", built.Username);
        Assert.DoesNotContain(Secret, db.ToString());
        Assert.DoesNotContain(Secret, db.Settings.ToString());
    }

    [Theory]
    [InlineData("sqlite:///relative.db", "relative.db")]
    [InlineData("sqlite:////abs/path.db", "/abs/path.db")]
    [InlineData("sqlite+aiosqlite:///relative.db", "relative.db")]
    [InlineData("Data Source=plain.db", "plain.db")]
    public void Sqlite_urls_become_sqlite_data_sources(string url, string path)
    {
        using var db = new Database(new DatabaseSettings { ConnectionString = url }, "Development");
        Assert.Equal(DatabaseProvider.Sqlite, db.Provider);
        Assert.Equal(path, new SqliteConnectionStringBuilder(db.DataSource.ConnectionString).DataSource);
    }

    [Theory]
    [InlineData("sqlite:///:memory:")]
    [InlineData("sqlite+aiosqlite:///:memory:")]
    [InlineData("Data Source=:memory:")]
    public void Sqlite_memory_becomes_a_named_shared_cache_database(string url)
    {
        using var db = new Database(new DatabaseSettings { ConnectionString = url }, "Development");
        var built = new SqliteConnectionStringBuilder(db.DataSource.ConnectionString);
        Assert.Equal(SqliteOpenMode.Memory, built.Mode);
        Assert.Equal(SqliteCacheMode.Shared, built.Cache);
        Assert.StartsWith("dbcore-Database-", built.DataSource);
    }

    [Fact]
    public void Negative_pool_size_in_configuration_names_the_key_and_the_fix()
    {
        DatabaseConfigurationException error = ResolveFails(new() { ["Database:Pool:Size"] = "-1" });
        Assert.Equal("Database:Pool:Size", error.Key);
        Assert.Contains("Database:Pool:Size is -1", error.Message);
        Assert.Contains("Set Database:Pool:Size to 0 or more", error.Message);
    }

    [Fact]
    public void Non_numeric_value_names_the_key()
    {
        var services = new ServiceCollection().AddDatabase(Config(new() { ["Database:Pool:MaxOverflow"] = "lots" }));
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Database>());
        Assert.Equal("Database:Pool:MaxOverflow", error.Key);
        Assert.Contains("whole number", error.Message);
    }

    [Fact]
    public void Unknown_provider_names_the_key_and_the_choices()
    {
        var services = new ServiceCollection().AddDatabase(Config(new() { ["Database:Provider"] = "Oracle" }));
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Database>());
        Assert.Equal("Database:Provider", error.Key);
        Assert.Contains("Auto, PostgreSql or Sqlite", error.Message);
    }

    [Fact]
    public void Unparsable_connection_string_names_the_key_and_hides_the_password()
    {
        DatabaseConfigurationException error = ResolveFails(new() { ["ConnectionStrings:Database"] = $"Host=127.0.0.1;Pasword={Secret};Database=x" });
        Assert.Equal("ConnectionStrings:Database", error.Key);
        Assert.Contains("ConnectionStrings:Database", error.Message);
        Assert.Contains("Password", error.Message); // the suggestion
    }

    [Fact]
    public void Provider_mismatch_names_the_key()
    {
        DatabaseConfigurationException error = ResolveFails(new() { ["Database:Provider"] = "PostgreSql", ["Database:ConnectionString"] = "Data Source=app.db" });
        Assert.Equal("Database:ConnectionString", error.Key);
        Assert.Contains("SQLite connection string", error.Message);
    }

    [Fact]
    public void Pinned_provider_rejects_a_connection_string_of_the_other_provider()
    {
        var error = Assert.Throws<DatabaseConfigurationException>(() => new Pg(Pg.BindSettings(Config(new() { ["ConnectionStrings:Pg"] = "Data Source=app.db" })), "Development"));
        Assert.Equal("ConnectionStrings:Pg", error.Key);
        var pinned = Assert.Throws<DatabaseConfigurationException>(() => new Pg(Pg.BindSettings(Config(new() { ["Pg:Provider"] = "Sqlite" })), "Development"));
        Assert.Equal("Pg:Provider", pinned.Key);
    }

    [Fact]
    public void Several_bad_values_are_reported_together()
    {
        DatabaseConfigurationException error = ResolveFails(new()
        {
            ["Database:Pool:IdleSeconds"] = "5",
            ["Database:Pool:AcquireTimeoutSeconds"] = "5000",
            ["Database:Retry:MaxAttempts"] = "0",
            ["Database:Retry:BaseDelayMilliseconds"] = "500",
            ["Database:Retry:MaxDelayMilliseconds"] = "100",
            ["Database:HealthTimeoutSeconds"] = "0",
            ["Database:CommandTimeoutSeconds"] = "-1",
        });
        foreach (string key in new[] { "Pool:IdleSeconds", "Pool:AcquireTimeoutSeconds", "Retry:MaxAttempts", "Retry:BaseDelayMilliseconds", "HealthTimeoutSeconds", "CommandTimeoutSeconds" })
        {
            Assert.Contains("Database:" + key, error.Message);
        }
    }

    [Fact]
    public void Zero_total_pool_is_rejected()
    {
        DatabaseConfigurationException error = ResolveFails(new() { ["Database:Pool:Size"] = "0", ["Database:Pool:MaxOverflow"] = "0" });
        Assert.Contains("at least 1", error.Message);
    }

    [Fact]
    public void Settings_ToString_redacts_the_password()
    {
        var settings = new DatabaseSettings { ConnectionString = $"Host=127.0.0.1;Username=app;Password={Secret};Database=x" };
        string text = settings.ToString();
        Assert.DoesNotContain(Secret, text);
        Assert.Contains("Password=***", text);
        Assert.Contains("Host=127.0.0.1", text);
    }

    [Fact]
    public void Configuration_registered_in_the_container_is_used_when_none_is_passed()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Config(new() { ["Database:Pool:Size"] = "2" }));
        services.AddDatabase();
        using ServiceProvider provider = services.BuildServiceProvider();
        Assert.Equal(2, provider.GetRequiredService<Database>().Pool.Size);
    }

    [Fact]
    public async Task Two_settings_classes_coexist_in_one_container()
    {
        var services = new ServiceCollection();
        var configuration = Config(new() { ["MainDb:Pool:Size"] = "1", ["Analytics:Pool:Size"] = "2" });
        services.AddMainDb(configuration).AddAnalyticsDb(configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();

        MainDb main = provider.GetRequiredService<MainDb>();
        AnalyticsDb analytics = provider.GetRequiredService<AnalyticsDb>();
        Assert.Equal(1, main.Pool.Size);
        Assert.Equal(2, analytics.Pool.Size);
        Assert.NotSame(main.DataSource, analytics.DataSource);

        await using AsyncServiceScope scope = provider.CreateAsyncScope();
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<MainDbSession>());
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<AnalyticsDbSession>());
        Assert.True(await main.CheckHealthAsync());
        Assert.True(await analytics.CheckHealthAsync());
    }
}
