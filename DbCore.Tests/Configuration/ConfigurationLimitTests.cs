using DbCore.Tests.TestSettings;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore.Tests.Configuration;

/// <summary>
/// Upper limits of the timeout and lifetime keys: the largest value each one can take before something real breaks
/// (CancellationTokenSource.CancelAfter and Npgsql's command timeout take at most 4294967294 ms; Npgsql keeps one
/// pruning sample per 10 s of Connection Idle Lifetime). A value above is a startup error naming the key and the range.
/// </summary>
public sealed class ConfigurationLimitTests
{
    private static readonly string Huge = int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static DatabaseConfigurationException StartupFails(string connectionString, string key, string value)
    {
        var services = new ServiceCollection().AddDatabase(ConfigurationTests.Config(new()
        {
            ["ConnectionStrings:Database"] = connectionString,
            ["Database:" + key] = value,
        }));
        using ServiceProvider provider = services.BuildServiceProvider();
        Exception thrown = Record.Exception(() => provider.GetRequiredService<Database>())!;
        var error = Assert.IsType<DatabaseConfigurationException>(thrown);
        Assert.Equal("Database:" + key, error.Key);
        return error;
    }

    private static Database StartsWith(string connectionString, string key, string value)
        => new(Database.BindSettings(ConfigurationTests.Config(new()
        {
            ["ConnectionStrings:Database"] = connectionString,
            ["Database:" + key] = value,
        })), "Development");

    public static TheoryData<string, string, string> HugeValues => new()
    {
        { "Host=127.0.0.1;Database=app", "HealthTimeoutSeconds", "1 and 4294967" },
        { "Data Source=:memory:", "HealthTimeoutSeconds", "1 and 4294967" },
        { "Host=127.0.0.1;Database=app", "CommandTimeoutSeconds", "0 and 4294967" },
        { "Data Source=:memory:", "CommandTimeoutSeconds", "0 and 4294967" },
        { "Host=127.0.0.1;Database=app", "Pool:IdleSeconds", "10 and 86400" },
    };

    [Theory]
    [MemberData(nameof(HugeValues))]
    public void Huge_value_is_a_configuration_error_naming_the_key_and_the_range(string connectionString, string key, string range)
    {
        DatabaseConfigurationException error = StartupFails(connectionString, key, Huge);
        Assert.Contains($"Database:{key} is {Huge}", error.Message);
        Assert.Contains("between " + range, error.Message);
        Assert.Contains($"Set Database:{key} to a value in that range", error.Message);
    }

    [Theory]
    [InlineData("HealthTimeoutSeconds", "4294967")]
    [InlineData("CommandTimeoutSeconds", "4294967")]
    [InlineData("Pool:IdleSeconds", "86400")]
    public async Task Largest_allowed_value_starts_and_runs(string key, string value)
    {
        using Database db = StartsWith("Data Source=:memory:", key, value);
        Assert.True(await db.CheckHealthAsync());
        using Database pg = StartsWith("Host=127.0.0.1;Database=app", key, value);
        Assert.Equal(DatabaseProvider.PostgreSql, pg.Provider);
    }

    [Fact]
    public void Pool_larger_than_any_server_allows_is_a_configuration_error_not_an_overflow()
    {
        DatabaseConfigurationException error = StartupFails("Host=127.0.0.1;Database=app", "Pool:MaxOverflow", Huge);
        Assert.True(error.Message.Contains("at most 262143", StringComparison.Ordinal), error.Message);
        Assert.Contains("Database:Pool:MaxOverflow", error.Message);
    }

    [Fact]
    public void Health_timeout_at_the_limit_reaches_cancel_after()
    {
        // The largest accepted value must be usable where the probe uses it: CancelAfter and a command timeout.
        using Database db = StartsWith("Data Source=:memory:", "HealthTimeoutSeconds", "4294967");
        using var timeout = new CancellationTokenSource();
        timeout.CancelAfter(db.Options.HealthTimeout);
        Assert.Throws<ArgumentOutOfRangeException>(() => timeout.CancelAfter(db.Options.HealthTimeout + TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData("Pool:RecycleSeconds")]
    [InlineData("Retry:MaxDelayMilliseconds")]
    public void Int_max_is_accepted_where_nothing_downstream_has_a_smaller_limit(string key)
    {
        // Npgsql's Connection Lifetime and Task.Delay (up to 4294967294 ms) take int.MaxValue: no extra limit.
        using Database pg = StartsWith("Host=127.0.0.1;Database=app", key, Huge);
        Assert.Equal(DatabaseProvider.PostgreSql, pg.Provider);
    }

    [Fact]
    public void Base_delay_of_int_max_is_accepted_with_an_equal_maximum()
    {
        var settings = Database.BindSettings(ConfigurationTests.Config(new()
        {
            ["ConnectionStrings:Database"] = "Data Source=:memory:",
            ["Database:Retry:BaseDelayMilliseconds"] = Huge,
            ["Database:Retry:MaxDelayMilliseconds"] = Huge,
        }));
        using var db = new Database(settings, "Development");
        Assert.Equal(TimeSpan.FromMilliseconds(int.MaxValue), db.Options.Retry.BaseDelay);
    }

    [Fact]
    public void Value_beyond_a_whole_number_names_the_key_and_the_range()
    {
        var services = new ServiceCollection().AddDatabase(ConfigurationTests.Config(new() { ["Database:Pool:RecycleSeconds"] = "99999999999" }));
        using ServiceProvider provider = services.BuildServiceProvider();
        var error = Assert.Throws<DatabaseConfigurationException>(() => provider.GetRequiredService<Database>());
        Assert.Equal("Database:Pool:RecycleSeconds", error.Key);
        Assert.Contains("2147483647", error.Message);
    }
}
