using System.ComponentModel;
using System.Reflection;
using DbCore.ConnectionStrings;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace DbCore.Tests.ConnectionStrings;

public class ConnectionStringParserTests
{
    private const string Secret = "Sup3rS3cretValue";

    // ------------------------------------------------------------------ PostgreSQL URLs

    [Theory]
    [InlineData("postgres://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    [InlineData("postgresql://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    [InlineData("postgresql+asyncpg://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    [InlineData("postgresql+psycopg://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    [InlineData("postgresql+psycopg2://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    [InlineData("PostgreSQL://app:Sup3rS3cretValue@db.example.com:5433/appdb")]
    public void Postgres_url_schemes_convert_to_npgsql_keywords(string url)
    {
        var parsed = ConnectionStringParser.Parse(url);

        Assert.Null(parsed.Error);
        Assert.Equal(ConnectionStringKind.PostgreSql, parsed.Kind);
        Assert.True(parsed.IsUrl);
        Assert.True(parsed.HasPassword);
        Assert.Equal(
            "Host=db.example.com;Port=5433;Username=app;Password=Sup3rS3cretValue;Database=appdb",
            parsed.Normalized);

        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(5433, builder.Port);
        Assert.Equal("app", builder.Username);
        Assert.Equal(Secret, builder.Password);
        Assert.Equal("appdb", builder.Database);

        Assert.Equal("db.example.com", parsed.Values["Host"]);
        Assert.Equal("5433", parsed.Values["Port"]);
        Assert.Equal("app", parsed.Values["Username"]);
        Assert.Equal("appdb", parsed.Values["Database"]);
    }

    [Fact]
    public void Postgres_url_with_percent_encoded_password_is_decoded()
    {
        var parsed = ConnectionStringParser.Parse(
            "postgresql://app%40corp:p%40ss%3Aw%2Frd%25%3B%3D%22x@localhost/my%20db");

        Assert.Null(parsed.Error);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal("app@corp", builder.Username);
        Assert.Equal("p@ss:w/rd%;=\"x", builder.Password);
        Assert.Equal("my db", builder.Database);
        Assert.Equal("p@ss:w/rd%;=\"x", parsed.Values["Password"]);
    }

    [Fact]
    public void Postgres_url_with_utf8_percent_encoded_password_is_decoded()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:p%C3%A4ss%E2%82%AC@localhost/db");

        Assert.Null(parsed.Error);
        Assert.Equal("päss€", new NpgsqlConnectionStringBuilder(parsed.Normalized).Password);
    }

    [Fact]
    public void Postgres_url_with_unencoded_at_and_slash_in_password_splits_at_the_last_at()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:p@ss/w?rd@localhost:5432/db");

        Assert.Null(parsed.Error);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal("p@ss/w?rd", builder.Password);
        Assert.Equal("localhost", builder.Host);
        Assert.Equal("db", builder.Database);
    }

    [Fact]
    public void Postgres_url_plus_in_password_stays_a_plus()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:a+b@localhost/db");

        Assert.Equal("a+b", new NpgsqlConnectionStringBuilder(parsed.Normalized).Password);
    }

    [Fact]
    public void Postgres_url_without_port_has_no_port_keyword()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@localhost/db");

        Assert.Null(parsed.Error);
        Assert.False(parsed.Values.ContainsKey("Port"));
        Assert.DoesNotContain("Port", parsed.Normalized, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(NpgsqlConnection.DefaultPort, new NpgsqlConnectionStringBuilder(parsed.Normalized).Port);
    }

    [Fact]
    public void Postgres_url_without_user_or_database_omits_them()
    {
        var parsed = ConnectionStringParser.Parse("postgres://localhost");

        Assert.Null(parsed.Error);
        Assert.Equal("Host=localhost", parsed.Normalized);
        Assert.False(parsed.HasPassword);
    }

    [Fact]
    public void Postgres_url_with_multiple_hosts_uses_npgsql_multi_host_syntax()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@a.example:5432,b.example:5433/db");

        Assert.Null(parsed.Error);
        Assert.Equal("a.example:5432,b.example:5433", parsed.Values["Host"]);
        Assert.False(parsed.Values.ContainsKey("Port"));
        Assert.Equal("a.example:5432,b.example:5433", new NpgsqlConnectionStringBuilder(parsed.Normalized).Host);
    }

    [Fact]
    public void Postgres_url_with_ipv6_host_drops_the_brackets_and_keeps_the_port()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@[::1]:5432/db");

        Assert.Null(parsed.Error);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal("::1", builder.Host);
        Assert.Equal(5432, builder.Port);
    }

    [Fact]
    public void Postgres_url_with_several_ipv6_hosts_keeps_brackets_in_the_host_list()
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@[::1]:5432,[fe80::1]:5433,c/db");

        Assert.Null(parsed.Error);
        Assert.Equal("[::1]:5432,[fe80::1]:5433,c", new NpgsqlConnectionStringBuilder(parsed.Normalized).Host);
    }

    [Fact]
    public void Postgres_url_query_parameters_map_to_npgsql_keywords()
    {
        var parsed = ConnectionStringParser.Parse(
            "postgresql://app:pw@localhost/db?sslmode=verify-full&application_name=my%20app" +
            "&connect_timeout=10&target_session_attrs=read-write&options=-c%20search_path%3Dapp");

        Assert.Null(parsed.Error);
        Assert.Contains("SSL Mode=VerifyFull", parsed.Normalized);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("my app", builder.ApplicationName);
        Assert.Equal(10, builder.Timeout);
        Assert.Equal("read-write", builder.TargetSessionAttributes);
        Assert.Equal("-c search_path=app", builder.Options);
    }

    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("allow", SslMode.Allow)]
    [InlineData("prefer", SslMode.Prefer)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    [InlineData("REQUIRE", SslMode.Require)]
    public void Postgres_url_sslmode_values_map_to_npgsql_enum_names(string value, SslMode expected)
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@localhost/db?sslmode=" + value);

        Assert.Null(parsed.Error);
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(parsed.Normalized).SslMode);
    }

    [Theory]
    [InlineData("any")]
    [InlineData("read-write")]
    [InlineData("read-only")]
    [InlineData("primary")]
    [InlineData("standby")]
    [InlineData("prefer-primary")]
    [InlineData("prefer-standby")]
    [InlineData("Read-Write")]
    public void Postgres_url_target_session_attrs_values_are_accepted_by_npgsql(string value)
    {
        var parsed = ConnectionStringParser.Parse("postgresql://app:pw@a,b/db?target_session_attrs=" + value);

        Assert.Null(parsed.Error);
        Assert.Equal(value.ToLowerInvariant(), new NpgsqlConnectionStringBuilder(parsed.Normalized).TargetSessionAttributes);
    }

    [Fact]
    public void Postgres_url_unknown_query_parameter_is_an_error_naming_it()
    {
        var parsed = ConnectionStringParser.Parse($"postgresql://app:{Secret}@localhost/db?sslmod=require");

        Assert.NotNull(parsed.Error);
        Assert.Null(parsed.Normalized);
        Assert.Contains("'sslmod'", parsed.Error);
        Assert.DoesNotContain(Secret, parsed.Error);
    }

    [Theory]
    [InlineData("postgresql://app:Sup3rS3cretValue@localhost:notaport/db")]
    [InlineData("postgresql://app:Sup3rS3cretValue@localhost:70000/db")]
    [InlineData("postgresql://app:Sup3rS3cretValue@/db")]
    [InlineData("postgresql://app:Sup3rS3cretValue@[::1/db")]
    [InlineData("postgresql://app:Sup3rS3cretValue@::1/db")]
    [InlineData("postgresql://app:Sup3rS3cretValue@localhost/db?sslmode=bogus")]
    [InlineData("postgresql://app:Sup3rS3cretValue@localhost/db?connect_timeout=5000")]
    [InlineData("postgresql://app:Sup3rS3cretValue@localhost/db?target_session_attrs=nope")]
    [InlineData("postgresql://app:Sup3rS3cretValue%zz@localhost/db")]
    [InlineData("mysql://app:Sup3rS3cretValue@localhost/db")]
    public void Postgres_url_errors_say_what_is_wrong_without_the_password(string url)
    {
        var parsed = ConnectionStringParser.Parse(url);

        Assert.NotNull(parsed.Error);
        Assert.Null(parsed.Normalized);
        Assert.True(parsed.IsUrl);
        Assert.DoesNotContain(Secret, parsed.Error);
        Assert.DoesNotContain("Sup3r", parsed.Error);
    }

    // ------------------------------------------------------------------ SQLite URLs

    [Theory]
    [InlineData("sqlite:///relative.db", "relative.db", false)]
    [InlineData("sqlite:///./data/app.db", "./data/app.db", false)]
    [InlineData("sqlite:////abs/path.db", "/abs/path.db", false)]
    [InlineData("sqlite:///:memory:", ":memory:", true)]
    [InlineData("sqlite://", ":memory:", true)]
    [InlineData("sqlite:///", ":memory:", true)]
    [InlineData("sqlite+aiosqlite:///app.db", "app.db", false)]
    [InlineData("sqlite+aiosqlite:////var/lib/app.db", "/var/lib/app.db", false)]
    [InlineData("sqlite+aiosqlite:///:memory:", ":memory:", true)]
    [InlineData("sqlite+pysqlite:///app.db", "app.db", false)]
    [InlineData("SQLite:///my%20app.db", "my app.db", false)]
    public void Sqlite_urls_convert_to_data_source(string url, string dataSource, bool inMemory)
    {
        var parsed = ConnectionStringParser.Parse(url);

        Assert.Null(parsed.Error);
        Assert.Equal(ConnectionStringKind.Sqlite, parsed.Kind);
        Assert.True(parsed.IsUrl);
        Assert.Equal(dataSource, parsed.SqliteDataSource);
        Assert.Equal(inMemory, parsed.IsInMemory);
        Assert.Equal(dataSource, new SqliteConnectionStringBuilder(parsed.Normalized).DataSource);
        Assert.Equal(dataSource, parsed.Values["Data Source"]);
    }

    [Fact]
    public void Sqlite_url_mode_ro_maps_to_read_only()
    {
        var parsed = ConnectionStringParser.Parse("sqlite:///app.db?mode=ro");

        Assert.Null(parsed.Error);
        Assert.Equal("Data Source=app.db;Mode=ReadOnly", parsed.Normalized);
        Assert.Equal(SqliteOpenMode.ReadOnly, new SqliteConnectionStringBuilder(parsed.Normalized).Mode);
    }

    [Fact]
    public void Sqlite_url_mode_memory_is_in_memory()
    {
        var parsed = ConnectionStringParser.Parse("sqlite:///shared?mode=memory&cache=shared");

        Assert.Null(parsed.Error);
        Assert.True(parsed.IsInMemory);
        var builder = new SqliteConnectionStringBuilder(parsed.Normalized);
        Assert.Equal(SqliteOpenMode.Memory, builder.Mode);
        Assert.Equal(SqliteCacheMode.Shared, builder.Cache);
    }

    [Fact]
    public void Sqlite_url_unknown_query_parameter_is_an_error_naming_it()
    {
        var parsed = ConnectionStringParser.Parse("sqlite:///app.db?journal=wal");

        Assert.NotNull(parsed.Error);
        Assert.Contains("'journal'", parsed.Error);
        Assert.Equal(ConnectionStringKind.Sqlite, parsed.Kind);
    }

    [Fact]
    public void Sqlite_url_with_a_host_is_an_error_explaining_the_slashes()
    {
        var parsed = ConnectionStringParser.Parse("sqlite://app.db");

        Assert.NotNull(parsed.Error);
        Assert.Contains("sqlite:///relative.db", parsed.Error);
    }

    // ------------------------------------------------------------------ keyword form: detection

    [Theory]
    [InlineData("Host=localhost;Database=app", "PostgreSql")]
    [InlineData("Server=localhost", "PostgreSql")]
    [InlineData("Port=5432;Password=x", "PostgreSql")]
    [InlineData("Username=app;Pooling=true", "PostgreSql")]
    [InlineData("Database=app", "PostgreSql")]
    [InlineData("PWD=x", "PostgreSql")]
    [InlineData("Host=h;Command Timeout=5", "PostgreSql")]
    [InlineData("Data Source=app.db", "Sqlite")]
    [InlineData("DataSource=app.db", "Sqlite")]
    [InlineData("Filename=app.db", "Sqlite")]
    [InlineData("Mode=ReadOnly", "Sqlite")]
    [InlineData("Cache=Shared", "Sqlite")]
    [InlineData("Default Timeout=5", "Sqlite")]
    [InlineData("Foreign Keys=true", "Sqlite")]
    [InlineData("Data Source=app.db;Password=x;Pooling=false;Command Timeout=5", "Sqlite")]
    [InlineData("Password=x;Pooling=true", "Unknown")]
    [InlineData("Command Timeout=5", "Unknown")]
    public void Keyword_form_detects_the_provider_from_exclusive_keywords(string text, string expectedKind)
    {
        var kind = Enum.Parse<ConnectionStringKind>(expectedKind);
        var parsed = ConnectionStringParser.Parse(text);

        Assert.Null(parsed.Error);
        Assert.False(parsed.IsUrl);
        Assert.Equal(kind, parsed.Kind);
        if (kind == ConnectionStringKind.PostgreSql)
        {
            _ = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        }
        else if (kind == ConnectionStringKind.Sqlite)
        {
            _ = new SqliteConnectionStringBuilder(parsed.Normalized);
        }
        else
        {
            _ = new NpgsqlConnectionStringBuilder(parsed.Normalized);
            _ = new SqliteConnectionStringBuilder(parsed.Normalized);
        }
    }

    [Fact]
    public void Npgsql_does_not_accept_data_source_so_it_decides_sqlite()
    {
        Assert.False(new NpgsqlConnectionStringBuilder().ContainsKey("Data Source"));
        Assert.True(new SqliteConnectionStringBuilder().ContainsKey("Data Source"));
        Assert.DoesNotContain("Data Source", ConnectionStringParser.PostgreSqlKeywords, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void Keyword_form_is_normalized_to_canonical_postgres_keywords()
    {
        var parsed = ConnectionStringParser.Parse("server=h; user id=u ;pwd=p;DB=d;sslmode=require;MinPoolSize=2");

        Assert.Null(parsed.Error);
        Assert.Equal("Host=h;Username=u;Password=p;Database=d;SSL Mode=require;Minimum Pool Size=2", parsed.Normalized);
        Assert.Equal("u", parsed.Values["Username"]);
        Assert.True(parsed.HasPassword);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal(SslMode.Require, builder.SslMode);
        Assert.Equal(2, builder.MinPoolSize);
    }

    [Fact]
    public void Keyword_form_is_normalized_to_canonical_sqlite_keywords()
    {
        var parsed = ConnectionStringParser.Parse("filename=app.db;command timeout=7;foreign keys=true");

        Assert.Null(parsed.Error);
        Assert.Equal("Data Source=app.db;Default Timeout=7;Foreign Keys=true", parsed.Normalized);
        Assert.Equal("app.db", parsed.SqliteDataSource);
        Assert.Equal(7, new SqliteConnectionStringBuilder(parsed.Normalized).DefaultTimeout);
    }

    [Fact]
    public void Keyword_form_normalized_quotes_values_with_separators()
    {
        var parsed = ConnectionStringParser.Parse("Host=h;Password=\"a;b=c\"\"d'e\";Options='-c x=y'");

        Assert.Null(parsed.Error);
        Assert.Equal("a;b=c\"d'e", parsed.Values["Password"]);
        var builder = new NpgsqlConnectionStringBuilder(parsed.Normalized);
        Assert.Equal("a;b=c\"d'e", builder.Password);
        Assert.Equal("-c x=y", builder.Options);
    }

    [Theory]
    [InlineData("Data Source=:memory:", true)]
    [InlineData("Data Source=shared;Mode=Memory;Cache=Shared", true)]
    [InlineData("Data Source=file::memory:?cache=shared", true)]
    [InlineData("Data Source=app.db", false)]
    [InlineData("Data Source=:MEMORY:x.db", false)]
    public void Sqlite_keyword_form_detects_in_memory_databases(string text, bool inMemory)
    {
        var parsed = ConnectionStringParser.Parse(text);

        Assert.Null(parsed.Error);
        Assert.Equal(ConnectionStringKind.Sqlite, parsed.Kind);
        Assert.Equal(inMemory, parsed.IsInMemory);
    }

    [Fact]
    public void Mixed_postgres_and_sqlite_keywords_are_an_error()
    {
        var parsed = ConnectionStringParser.Parse($"Host=h;Data Source=app.db;Password={Secret}");

        Assert.NotNull(parsed.Error);
        Assert.Null(parsed.Normalized);
        Assert.Contains("mixes PostgreSQL keywords (Host) and SQLite keywords (Data Source)", parsed.Error);
        Assert.DoesNotContain(Secret, parsed.Error);
    }

    [Fact]
    public void Unknown_keyword_Pasword_suggests_Password()
    {
        var parsed = ConnectionStringParser.Parse($"Host=h;Pasword={Secret}");

        Assert.Equal("Unknown connection string keyword 'Pasword'. Did you mean 'Password'?", parsed.Error);
        Assert.Equal("Pasword", parsed.UnknownKeyword);
        Assert.Equal("Password", parsed.Suggestion);
        Assert.Null(parsed.Normalized);
    }

    [Fact]
    public void Unknown_keyword_Data_Sourse_suggests_Data_Source()
    {
        var parsed = ConnectionStringParser.Parse("Data Sourse=app.db");

        Assert.Equal("Unknown connection string keyword 'Data Sourse'. Did you mean 'Data Source'?", parsed.Error);
        Assert.Equal("Data Sourse", parsed.UnknownKeyword);
        Assert.Equal("Data Source", parsed.Suggestion);
    }

    [Fact]
    public void Min_Pool_Size_is_rejected_like_npgsql_does_with_a_suggestion()
    {
        Assert.False(new NpgsqlConnectionStringBuilder().ContainsKey("Min Pool Size"));

        var parsed = ConnectionStringParser.Parse("Host=h;Min Pool Size=2");

        Assert.Equal("Min Pool Size", parsed.UnknownKeyword);
        Assert.Equal("Minimum Pool Size", parsed.Suggestion);
    }

    [Fact]
    public void Unknown_keyword_without_a_close_match_has_no_suggestion()
    {
        var parsed = ConnectionStringParser.Parse("Host=h;Frobnicate=1");

        Assert.NotNull(parsed.Error);
        Assert.StartsWith("Unknown connection string keyword 'Frobnicate'.", parsed.Error);
        Assert.Equal("Frobnicate", parsed.UnknownKeyword);
        Assert.Null(parsed.Suggestion);
    }

    [Fact]
    public void Unknown_keyword_after_a_password_is_not_echoed()
    {
        // The user meant Password="abc;xyzzy9=qq" but forgot the quotes.
        var parsed = ConnectionStringParser.Parse("Host=h;Password=abc;xyzzy9=qq");

        Assert.NotNull(parsed.Error);
        Assert.DoesNotContain("xyzzy9", parsed.Error);
        Assert.DoesNotContain("qq", parsed.Error);
        Assert.Null(parsed.UnknownKeyword);
        Assert.Contains("double quotes", parsed.Error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(";;")]
    public void Empty_connection_string_is_an_error(string? text)
    {
        var parsed = ConnectionStringParser.Parse(text);

        Assert.NotNull(parsed.Error);
        Assert.Contains("empty", parsed.Error);
        Assert.Equal(ConnectionStringKind.Unknown, parsed.Kind);
    }

    [Theory]
    [InlineData("Host=h;Password='Sup3rS3cretValue")]
    [InlineData("Host=h;Password=\"Sup3rS3cretValue")]
    [InlineData("Host=h;Password=Sup3rS3cretValue;Sup3rS3cretValue")]
    [InlineData("Sup3rS3cretValue")]
    public void Keyword_syntax_errors_do_not_echo_the_raw_string(string text)
    {
        var parsed = ConnectionStringParser.Parse(text);

        Assert.NotNull(parsed.Error);
        Assert.Contains("malformed", parsed.Error);
        Assert.DoesNotContain(Secret, parsed.Error);
        Assert.DoesNotContain("Sup3r", parsed.Error);
    }

    [Theory]
    [InlineData("Host=h;Pasword=Sup3rS3cretValue")]
    [InlineData("Host=h;Data Source=x;Password=Sup3rS3cretValue")]
    [InlineData("Host=h;Password=Sup3rS3cretValue;Porrt=1")]
    [InlineData("Host=h;Password=Sup3rS3cretValue;Frobnicate=1")]
    [InlineData("Host=h;Password=Sup3r;S3cretValue=x")]
    [InlineData("postgresql://u:Sup3rS3cretValue@h/db?foo=1")]
    [InlineData("postgresql://u:Sup3rS3cretValue@h:abc/db")]
    [InlineData("postgresql://u:Sup3rS3cretValue@/db")]
    [InlineData("postgresql://u:Sup3r%S3cretValue@h/db")]
    [InlineData("sqlite://u:Sup3rS3cretValue@h/db")]
    public void Errors_never_contain_the_password(string text)
    {
        var parsed = ConnectionStringParser.Parse(text);

        Assert.NotNull(parsed.Error);
        Assert.DoesNotContain(Secret, parsed.Error);
        Assert.DoesNotContain("Sup3r", parsed.Error);
        Assert.DoesNotContain("S3cret", parsed.Error);
    }

    // ------------------------------------------------------------------ SuggestKeyword

    [Theory]
    [InlineData("Pasword", "Unknown", "Password")]
    [InlineData("Passwrod", "PostgreSql", "Password")]
    [InlineData("Usernmae", "PostgreSql", "Username")]
    [InlineData("Hots", "PostgreSql", "Host")]
    [InlineData("application_name", "PostgreSql", "Application Name")]
    [InlineData("Min Pool Size", "PostgreSql", "Minimum Pool Size")]
    [InlineData("max pool size", "Unknown", "Maximum Pool Size")]
    [InlineData("Data Sourse", "Sqlite", "Data Source")]
    [InlineData("DATA SOURSE", "Unknown", "Data Source")]
    [InlineData("Foreign Key", "Sqlite", "Foreign Keys")]
    [InlineData("Frobnicate", "Unknown", null)]
    [InlineData("Xy", "Unknown", null)]
    [InlineData("Data Sourse", "PostgreSql", null)]
    [InlineData("", "Unknown", null)]
    public void SuggestKeyword_finds_the_closest_canonical_keyword(
        string unknown, string kind, string? expected)
    {
        Assert.Equal(expected, ConnectionStringParser.SuggestKeyword(unknown, Enum.Parse<ConnectionStringKind>(kind)));
    }

    // ------------------------------------------------------------------ Redact

    [Fact]
    public void Redact_keyword_form_hides_the_password_and_keeps_the_rest()
    {
        var redacted = ConnectionStringParser.Redact($"Host=db;Username=app;Password={Secret};Database=appdb");

        Assert.DoesNotContain(Secret, redacted);
        Assert.Equal("Host=db;Username=app;Password=***;Database=appdb", redacted);
    }

    [Theory]
    [InlineData("Server=h;PWD=Sup3rS3cretValue", "Server=h;PWD=***")]
    [InlineData("Server=h;Pwd=Sup3rS3cretValue", "Server=h;Pwd=***")]
    [InlineData("Host=h;psw=Sup3rS3cretValue", "Host=h;psw=***")]
    [InlineData("Host=h;SSL Password=Sup3rS3cretValue", "Host=h;SSL Password=***")]
    [InlineData("Data Source=app.db;Password=Sup3rS3cretValue", "Data Source=app.db;Password=***")]
    [InlineData("Host=h;Password=\"Sup3r;S3cretValue\"", "Host=h;Password=***")]
    [InlineData("Host=h;Pasword=Sup3rS3cretValue", "Host=h;Pasword=***")]
    [InlineData("Host=h;Password=Sup3r;S3cretValue=x", "Host=h;Password=***;***=***")]
    [InlineData("Host=h;Password=", "Host=h")] // the tokenizer drops empty values
    public void Redact_keyword_form_hides_every_password_synonym(string text, string expected)
    {
        var redacted = ConnectionStringParser.Redact(text);

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("Sup3r", redacted);
        Assert.DoesNotContain("S3cret", redacted);
    }

    [Theory]
    [InlineData(
        "postgresql://app:Sup3rS3cretValue@db.example.com:5432/appdb?sslmode=require",
        "postgresql://app:***@db.example.com:5432/appdb?sslmode=require")]
    [InlineData(
        "postgresql+asyncpg://app:Sup3r@S3cretValue@db.example.com/appdb",
        "postgresql+asyncpg://app:***@db.example.com/appdb")]
    [InlineData(
        "postgres://app:Sup3r%40S3cretValue@a:5432,b:5433/appdb",
        "postgres://app:***@a:5432,b:5433/appdb")]
    [InlineData(
        "postgres://app@localhost/appdb",
        "postgres://app@localhost/appdb")]
    [InlineData(
        "postgres://app:x@localhost/appdb?password=Sup3rS3cretValue&application_name=a",
        "postgres://app:***@localhost/appdb?password=***&application_name=a")]
    [InlineData("sqlite:///app.db", "sqlite:///app.db")]
    [InlineData("PostgreSQL://app:Sup3rS3cretValue@h/db", "PostgreSQL://app:***@h/db")]
    [InlineData("mysql://app:Sup3rS3cretValue@h/db", "mysql://app:***@h/db")]
    public void Redact_url_form_hides_the_password_and_keeps_the_rest(string url, string expected)
    {
        var redacted = ConnectionStringParser.Redact(url);

        Assert.Equal(expected, redacted);
        Assert.DoesNotContain("Sup3r", redacted);
    }

    [Theory]
    [InlineData("Host=h;Password='Sup3rS3cretValue")]
    [InlineData("Host=h;Password=\"Sup3rS3cretValue")]
    [InlineData("Sup3rS3cretValue")]
    [InlineData("Host=h;Password=Sup3rS3cretValue;trailing garbage")]
    [InlineData("=Sup3rS3cretValue")]
    public void Redact_garbage_returns_a_placeholder_without_throwing(string text)
    {
        var redacted = ConnectionStringParser.Redact(text);

        Assert.Equal("(unparsable connection string)", redacted);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void Redact_of_nothing_is_empty(string? text)
    {
        Assert.Equal(string.Empty, ConnectionStringParser.Redact(text));
    }

    [Fact]
    public void Redacted_keyword_form_still_parses()
    {
        var redacted = ConnectionStringParser.Redact("Host=db;Username=app;Password=\"x;y\";Application Name=\"a;b\"");

        var parsed = ConnectionStringParser.Parse(redacted);
        Assert.Null(parsed.Error);
        Assert.Equal("***", parsed.Values["Password"]);
        Assert.Equal("a;b", parsed.Values["Application Name"]);
    }

    // ------------------------------------------------------------------ drift: keyword tables vs the real builders

    [Fact]
    public void Keyword_tables_have_no_case_insensitive_duplicates()
    {
        Assert.Equal(
            ConnectionStringParser.PostgreSqlKeywords.Count,
            ConnectionStringParser.PostgreSqlKeywords.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Equal(
            ConnectionStringParser.SqliteKeywords.Count,
            ConnectionStringParser.SqliteKeywords.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Every_postgres_table_keyword_is_accepted_by_NpgsqlConnectionStringBuilder_under_its_canonical_name()
    {
        var properties = NpgsqlKeywordProperties();
        foreach (var keyword in ConnectionStringParser.PostgreSqlKeywords)
        {
            Assert.True(new NpgsqlConnectionStringBuilder().ContainsKey(keyword), $"Npgsql rejects '{keyword}'");

            // The canonical name DbCore reports is the one Npgsql itself uses.
            var parsed = ConnectionStringParser.Parse("Host=h;" + keyword + "=1");
            Assert.Null(parsed.Error);
            var canonical = parsed.Values.Keys.Last();
            Assert.True(properties.ContainsKey(canonical), $"'{canonical}' (for '{keyword}') is no Npgsql display name");

            var builder = new NpgsqlConnectionStringBuilder();
            builder[keyword] = SampleValue(canonical, properties[canonical].PropertyType);
            Assert.Contains(canonical, builder.Keys);
        }
    }

    [Fact]
    public void Every_keyword_NpgsqlConnectionStringBuilder_exposes_is_in_the_table()
    {
        var table = new HashSet<string>(ConnectionStringParser.PostgreSqlKeywords, StringComparer.OrdinalIgnoreCase);
        var properties = NpgsqlKeywordProperties();
        Assert.True(properties.Count > 50, "reflection found too few Npgsql keyword properties");

        var missing = new List<string>();
        foreach (var (displayName, property) in properties)
        {
            var spellings = new List<string> { displayName, property.Name };
            spellings.AddRange(Synonyms(property));
            missing.AddRange(spellings.Where(s => !table.Contains(s)));
        }

        // Keys holds the canonical names of the keywords that are set: set them all.
        var all = new NpgsqlConnectionStringBuilder();
        foreach (var (displayName, property) in properties)
        {
            all[displayName] = SampleValue(displayName, property.PropertyType);
        }

        missing.AddRange(all.Keys.Where(k => !table.Contains(k)));
        Assert.True(missing.Count == 0, "Not in PostgreSqlKeywords: " + string.Join(", ", missing.Distinct()));
    }

    [Fact]
    public void Every_sqlite_table_keyword_is_accepted_by_SqliteConnectionStringBuilder_under_its_canonical_name()
    {
        foreach (var keyword in ConnectionStringParser.SqliteKeywords)
        {
            Assert.True(new SqliteConnectionStringBuilder().ContainsKey(keyword), $"Microsoft.Data.Sqlite rejects '{keyword}'");

            var parsed = ConnectionStringParser.Parse("Data Source=x.db;" + keyword + "=" + SqliteSample(keyword));
            Assert.Null(parsed.Error);
            var builder = new SqliteConnectionStringBuilder(parsed.Normalized);
            var canonical = parsed.Values.Keys.Last();
            Assert.Contains(canonical, builder.Keys.Cast<string>());
            Assert.Equal(SqliteSample(keyword), Convert.ToString(builder[canonical], System.Globalization.CultureInfo.InvariantCulture), ignoreCase: true);
        }
    }

    [Fact]
    public void Every_keyword_SqliteConnectionStringBuilder_exposes_is_in_the_table()
    {
        var table = new HashSet<string>(ConnectionStringParser.SqliteKeywords, StringComparer.OrdinalIgnoreCase);
        var keys = new SqliteConnectionStringBuilder().Keys.Cast<string>().ToList();
        Assert.NotEmpty(keys);

        // The synonyms (DataSource, Filename, Command Timeout) live only in a private keyword map.
        var field = typeof(SqliteConnectionStringBuilder).GetField("_keywords", BindingFlags.NonPublic | BindingFlags.Static);
        Assert.True(field is not null, "Microsoft.Data.Sqlite's private _keywords map moved: update this test");
        var map = (System.Collections.IEnumerable)field!.GetValue(null)!;
        foreach (var entry in map)
        {
            keys.Add((string)entry.GetType().GetProperty("Key")!.GetValue(entry)!);
        }

        Assert.Contains("Filename", keys);
        var missing = keys.Where(k => !table.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "Not in SqliteKeywords: " + string.Join(", ", missing));
    }

    private static Dictionary<string, PropertyInfo> NpgsqlKeywordProperties()
    {
        var result = new Dictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in typeof(NpgsqlConnectionStringBuilder).GetProperties(
                     BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            var displayName = property.GetCustomAttribute<DisplayNameAttribute>()?.DisplayName;
            if (displayName is not null && property.CanWrite && property.GetIndexParameters().Length == 0)
            {
                result[displayName] = property;
            }
        }

        return result;
    }

    private static IEnumerable<string> Synonyms(PropertyInfo property)
    {
        foreach (var attribute in property.GetCustomAttributes())
        {
            if (attribute.GetType().GetProperty("Synonyms")?.GetValue(attribute) is string[] synonyms)
            {
                foreach (var synonym in synonyms)
                {
                    yield return synonym;
                }
            }
        }
    }

    private static string SampleValue(string displayName, Type type)
    {
        // Values Npgsql validates when they are set.
        if (displayName == "Require Auth")
        {
            return "ScramSHA256"; // Npgsql wants its enum names, not libpq's "scram-sha-256"
        }

        if (displayName == "Target Session Attributes")
        {
            return "any";
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(bool))
        {
            return "true";
        }

        if (type == typeof(int))
        {
            return "30";
        }

        if (type.IsEnum)
        {
            return Enum.GetNames(type)[0];
        }

        return "x";
    }

    private static string SqliteSample(string keyword) => keyword.ToLowerInvariant() switch
    {
        "mode" => "ReadOnly",
        "cache" => "Shared",
        "foreign keys" or "recursive triggers" or "pooling" => "True",
        "default timeout" or "command timeout" => "5",
        _ => "x.db",
    };
}
