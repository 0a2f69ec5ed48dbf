using DbCore.Tests.Configuration;
using DbCore.Tests.TestSettings;
using Microsoft.Extensions.DependencyInjection;

namespace DbCore.Tests.ConnectionStrings;

/// <summary>
/// Values that parse as a connection string but that the provider's own builder rejects, and strings that only look
/// like one, found by mutating valid connection strings (ConnectionStringFuzzTests). Each must stop startup with a
/// DatabaseConfigurationException naming the key, and never quote the password.
/// </summary>
public sealed class BadConnectionStringValueTests
{
    private const string Secret = "Vq8-Hidden-Pw";
    private const string Key = "ConnectionStrings:Database";

    private static DatabaseConfigurationException StartupFails(string connectionString)
    {
        var services = new ServiceCollection().AddDatabase(ConfigurationTests.Config(new() { [Key] = connectionString }));
        using ServiceProvider provider = services.BuildServiceProvider();
        Exception thrown = Record.Exception(() => provider.GetRequiredService<Database>())!;
        Assert.NotNull(thrown);
        var error = Assert.IsType<DatabaseConfigurationException>(thrown);
        Assert.Equal(Key, error.Key);
        Assert.Contains(Key, error.Message);
        Assert.DoesNotContain(Secret, error.ToString());
        Assert.DoesNotContain("Hidden", error.ToString());
        return error;
    }

    [Fact]
    public void Invalid_sqlite_mode_value_names_the_keyword_and_the_choices()
    {
        DatabaseConfigurationException error = StartupFails($"Data Source=app.db;Password={Secret};Mode=ReadWriteCreat/e");
        Assert.Contains("'Mode'", error.Message);
        Assert.Contains("ReadWriteCreate", error.Message); // the fix: the valid values
        Assert.DoesNotContain("ReadWriteCreat/e", error.Message);
    }

    [Fact]
    public void Invalid_sqlite_boolean_value_names_the_keyword()
    {
        DatabaseConfigurationException error = StartupFails($"Data Source=app.db;Password={Secret};Foreign Keys=maybe");
        Assert.Contains("'Foreign Keys'", error.Message);
        Assert.Contains("True or False", error.Message);
    }

    [Fact]
    public void Malformed_postgres_port_names_the_keyword_and_the_range()
    {
        DatabaseConfigurationException error = StartupFails($"Host=127.0.0.1;Port=543[2;Username=app;Password={Secret};Database=shop");
        Assert.Contains("'Port'", error.Message);
        Assert.Contains("1 to 65535", error.Message);
    }

    [Fact]
    public void Stray_url_separator_in_a_postgres_host_names_the_host_keyword()
    {
        DatabaseConfigurationException error = StartupFails($"Host=127.0.0.1://;Username=app;Password={Secret};Database=shop");
        Assert.Contains("'Host'", error.Message);
    }

    [Fact]
    public void Stray_url_separator_in_one_of_several_hosts_names_the_host_keyword()
    {
        DatabaseConfigurationException error = StartupFails($"Host=db1,db2://x;Username=app;Password={Secret};Database=shop");
        Assert.Contains("'Host'", error.Message);
    }

    [Theory]
    [InlineData("postgresql:/app:" + Secret + "@127.0.0.1:5432/shop?sslmode=require")]
    [InlineData("postgresql:/app:" + Secret + "@127.0.0.1:5432/shop")]
    [InlineData("postgres:app:" + Secret + "@127.0.0.1/shop?application_name=x")]
    public void Url_with_a_missing_slash_is_reported_as_a_url_without_the_user_info(string url)
    {
        DatabaseConfigurationException error = StartupFails(url);
        Assert.DoesNotContain("app:", error.Message);
        Assert.Contains("://", error.Message); // the fix: scheme://user:password@host/db
    }

    [Fact]
    public void Unknown_keyword_that_could_hold_a_secret_is_not_quoted()
    {
        // The "keyword" is a whole fragment with '@' and ':' in it: it may be a mis-split credential.
        DatabaseConfigurationException error = StartupFails($"Host=127.0.0.1;user:{Secret}@x=1;Database=shop");
        Assert.Contains("keyword", error.Message);
    }
}
