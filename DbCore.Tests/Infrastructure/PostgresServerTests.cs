using System.Net;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace DbCore.Tests.Infrastructure;

[Collection(PostgresCollection.Name)]
public sealed class PostgresServerTests
{
    private readonly PostgresServer _server;
    private readonly ITestOutputHelper _output;

    public PostgresServerTests(PostgresServer server, ITestOutputHelper output)
    {
        _server = server;
        _output = output;
    }

    [PostgresFact]
    public async Task Server_answers_with_PostgreSQL_15()
    {
        _server.EnsureAvailable();
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version()", connection);
        var version = (string?)await command.ExecuteScalarAsync();

        Assert.NotNull(version);
        Assert.StartsWith("PostgreSQL 15.", version);
        Assert.Equal(15, connection.PostgreSqlVersion.Major);
        _output.WriteLine($"{version}; initdb + start took {_server.StartupTime.TotalMilliseconds:0} ms");
    }

    [PostgresFact]
    public async Task Connection_string_and_url_describe_the_same_server()
    {
        _server.EnsureAvailable();
        var builder = new NpgsqlConnectionStringBuilder(_server.ConnectionString);

        Assert.Equal("127.0.0.1", builder.Host);
        Assert.Equal(_server.Port, builder.Port);
        Assert.Equal("postgres", builder.Username);
        Assert.Equal("postgres", builder.Database);
        Assert.Equal(_server.Password, builder.Password);
        Assert.True(builder.Pooling);
        Assert.Equal(24, _server.Password.Length);
        Assert.All(_server.Password, c => Assert.True(char.IsAsciiLetterOrDigit(c)));
        Assert.Equal($"postgresql://postgres:{_server.Password}@127.0.0.1:{_server.Port}/postgres", _server.Url);
        Assert.True(File.Exists(Path.Combine(_server.DataDirectory, "PG_VERSION")));
        Assert.True(File.Exists(_server.LogPath));
    }

    [PostgresFact]
    public async Task Wrong_password_is_rejected()
    {
        _server.EnsureAvailable();
        var builder = new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Password = "wrong", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);

        var ex = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, ex.SqlState);
    }

    [PostgresFact]
    public async Task CreateDatabaseAsync_gives_an_isolated_database()
    {
        var first = await _server.CreateDatabaseAsync("Iso-First");
        var second = await _server.CreateDatabaseAsync("iso_second");

        var firstName = new NpgsqlConnectionStringBuilder(first).Database;
        var secondName = new NpgsqlConnectionStringBuilder(second).Database;
        Assert.NotEqual(firstName, secondName);
        Assert.StartsWith("iso_first_", firstName);
        Assert.Equal(firstName, firstName!.ToLowerInvariant());

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand("CREATE TABLE only_here (id int); INSERT INTO only_here VALUES (1);", connection);
            await create.ExecuteNonQueryAsync();
            await using var current = new NpgsqlCommand("SELECT current_database()", connection);
            Assert.Equal(firstName, await current.ExecuteScalarAsync());
        }

        await using (var connection = new NpgsqlConnection(second))
        {
            await connection.OpenAsync();
            await using var current = new NpgsqlCommand("SELECT current_database()", connection);
            Assert.Equal(secondName, await current.ExecuteScalarAsync());
            await using var lookup = new NpgsqlCommand("SELECT to_regclass('public.only_here') IS NULL", connection);
            Assert.Equal(true, await lookup.ExecuteScalarAsync());
        }
    }

    [PostgresFact]
    public async Task CreateDatabaseAsync_can_be_called_concurrently()
    {
        var connectionStrings = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => _server.CreateDatabaseAsync("parallel")));

        Assert.Equal(8, connectionStrings.Select(cs => new NpgsqlConnectionStringBuilder(cs).Database).Distinct().Count());
    }

    [PostgresFact]
    public async Task RestartAsync_keeps_the_port_and_accepts_new_connections()
    {
        var connectionString = await _server.CreateDatabaseAsync("restart");
        var port = _server.Port;
        int pidBefore;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            pidBefore = connection.ProcessID;
        }

        await _server.RestartAsync();
        NpgsqlConnection.ClearAllPools();

        Assert.Equal(port, _server.Port);
        Assert.True(_server.IsRunning);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            Assert.Equal(1, await command.ExecuteScalarAsync());
            Assert.NotEqual(pidBefore, connection.ProcessID);
        }
    }

    [PostgresFact]
    public async Task StopAsync_then_StartAsync_brings_the_server_back()
    {
        _server.EnsureAvailable();
        await _server.StopAsync();
        try
        {
            Assert.False(_server.IsRunning);
            var builder = new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Pooling = false, Timeout = 2 };
            await using var down = new NpgsqlConnection(builder.ConnectionString);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => down.OpenAsync());
        }
        finally
        {
            await _server.StartAsync();
        }

        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
    }

    [PostgresFact]
    public async Task Server_listens_only_on_loopback()
    {
        _server.EnsureAvailable();
        Assert.Equal("127.0.0.1", _server.Host);
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();

        await using var show = new NpgsqlCommand("SHOW listen_addresses", connection);
        Assert.Equal("127.0.0.1", await show.ExecuteScalarAsync());
        await using var address = new NpgsqlCommand("SELECT host(inet_server_addr())", connection);
        Assert.Equal("127.0.0.1", await address.ExecuteScalarAsync());
        await using var port = new NpgsqlCommand("SHOW port", connection);
        Assert.Equal(_server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), await port.ExecuteScalarAsync());
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(_server.Host)));
    }

    [PostgresFact]
    public async Task Server_runs_with_the_test_settings()
    {
        _server.EnsureAvailable();
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();

        Assert.Equal("off", await ShowAsync(connection, "fsync"));
        Assert.Equal("off", await ShowAsync(connection, "synchronous_commit"));
        Assert.Equal("200", await ShowAsync(connection, "max_connections"));
        Assert.Equal("UTF8", await ShowAsync(connection, "server_encoding"));
        Assert.Equal("scram-sha-256", await ShowAsync(connection, "password_encryption"));
    }

    private static async Task<string?> ShowAsync(NpgsqlConnection connection, string setting)
    {
        await using var command = new NpgsqlCommand("SHOW " + setting, connection);
        return (string?)await command.ExecuteScalarAsync();
    }
}
