using DbCore.Tests.TestSettings;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace DbCore.Tests.Configuration;

/// <summary>Tests that change process environment variables run alone, so no other test sees them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class EnvironmentTests
{
    private static void WithEnvironment(IDictionary<string, string?> variables, Action action)
    {
        var saved = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        try
        {
            foreach ((string key, string? value) in variables)
            {
                Environment.SetEnvironmentVariable(key, value);
            }

            action();
        }
        finally
        {
            foreach ((string key, string? value) in saved)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
        }
    }

    private static NpgsqlConnectionStringBuilder BuiltPool(Pg db) => new(db.DataSource.ConnectionString);

    [Theory]
    [InlineData("Development", 5, 15)]
    [InlineData("development", 5, 15)]
    [InlineData("Production", 10, 30)]
    [InlineData("Staging", 10, 30)] // no Staging profile: Production's
    public void DOTNET_ENVIRONMENT_picks_the_pool_profile(string environment, int min, int max)
        => WithEnvironment(new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = environment, ["ASPNETCORE_ENVIRONMENT"] = null }, () =>
        {
            using var db = new Pg(new PgSettings { ConnectionString = "Host=127.0.0.1;Database=app" });
            Assert.Equal(environment, db.Environment);
            Assert.Equal(min, BuiltPool(db).MinPoolSize);
            Assert.Equal(max, BuiltPool(db).MaxPoolSize);
            Assert.Equal(min, db.Pool.Size);
            Assert.Equal(max, db.Pool.MaxSize);
        });

    [Fact]
    public void ASPNETCORE_ENVIRONMENT_is_used_when_DOTNET_ENVIRONMENT_is_unset()
        => WithEnvironment(new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = "Development" }, () =>
        {
            using var db = new Pg(new PgSettings());
            Assert.Equal("Development", db.Environment);
        });

    [Fact]
    public void Production_is_the_default_environment()
        => WithEnvironment(new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null }, () =>
        {
            using var db = new Pg(new PgSettings());
            Assert.Equal("Production", db.Environment);
            Assert.Equal(3, db.Options.Retry.MaxAttempts);
        });

    [Fact]
    public void Production_maps_the_whole_pool_onto_npgsql()
    {
        // No pool keyword in the connection string: the profile decides (keywords are honoured, see NoSurprisesTests).
        using var db = new Pg(new PgSettings { ConnectionString = "Host=127.0.0.1;Database=app" }, "Production");
        NpgsqlConnectionStringBuilder built = BuiltPool(db);
        Assert.Equal(10, built.MinPoolSize);
        Assert.Equal(30, built.MaxPoolSize);
        Assert.Equal(30, built.Timeout);
        Assert.Equal(3600, built.ConnectionLifetime);
        Assert.Equal(300, built.ConnectionIdleLifetime);
        Assert.Equal(30, built.CommandTimeout);
    }

    [Fact]
    public void Named_environment_variable_overrides_configuration()
        => WithEnvironment(new Dictionary<string, string?> { ["DBCORE_TEST_DATABASE_URL"] = "postgresql://u:env-secret@127.0.0.1:5999/fromenv" }, () =>
        {
            var configuration = ConfigurationTests.Config(new() { ["ConnectionStrings:Database"] = "Data Source=fromconfig.db" });
            DatabaseSettings settings = Database.BindSettings(configuration);
            Assert.Equal("postgresql://u:env-secret@127.0.0.1:5999/fromenv", settings.ConnectionString);

            DatabaseSettings configured = Database.BindSettings(configuration, s => s.ConnectionString = "Data Source=fromdelegate.db");
            Assert.Equal("Data Source=fromdelegate.db", configured.ConnectionString);
        });

    [Fact]
    public void Empty_named_environment_variable_is_ignored()
        => WithEnvironment(new Dictionary<string, string?> { ["DBCORE_TEST_DATABASE_URL"] = "" }, () =>
        {
            DatabaseSettings settings = Database.BindSettings(ConfigurationTests.Config(new() { ["Database:ConnectionString"] = "Data Source=x.db" }));
            Assert.Equal("Data Source=x.db", settings.ConnectionString);
        });

    [Fact]
    public void Invalid_environment_variable_value_names_the_variable()
        => WithEnvironment(new Dictionary<string, string?> { ["DBCORE_TEST_DATABASE_URL"] = "mysql://u:topsecret@h/db" }, () =>
        {
            var services = new ServiceCollection().AddDatabase(ConfigurationTests.Config(new()));
            using ServiceProvider provider = services.BuildServiceProvider();
            var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Database>());
            Assert.Contains("DBCORE_TEST_DATABASE_URL", error.Message);
            Assert.DoesNotContain("topsecret", error.ToString());
        });
}
