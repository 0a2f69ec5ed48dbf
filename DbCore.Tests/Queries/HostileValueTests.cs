using DbCore.Tests.Infrastructure;

namespace DbCore.Tests.Queries;

/// <summary>
/// Values a real database holds that a member's type cannot (review helper-43): each is a <see cref="QueryResultException"/>
/// naming method, column and member, in every provider mode, and no message, ToString or log line quotes a secret-looking
/// value from the data.
/// </summary>
internal static class HostileValues
{
    public const string Secret = "hunter2";

    public static async Task AssertAsync<TDb, TSession>(TDb db, LogCollector logs)
        where TDb : DatabaseAccessor<TSession>
        where TSession : DbSession, IHostileQueries
    {
        await using (TSession session = db.CreateSession())
        {
            var secret = await Assert.ThrowsAsync<QueryResultException>(() => session.SecretAsDecimalAsync());
            Assert.Equal(("amount", "the result"), (secret.Column, secret.Member));
            Assert.DoesNotContain(Secret, secret.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, secret.ToString(), StringComparison.Ordinal);

            // An INTEGER Unix epoch into a DateTime: Microsoft.Data.Sqlite's ArgumentOutOfRangeException was raw.
            var epoch = await Assert.ThrowsAsync<QueryResultException>(() => session.EpochRowsAsync());
            Assert.Equal(("created_at", "CreatedAt"), (epoch.Column, epoch.Member));
        }

        Assert.Equal(2L, await db.ExecuteReadOnlyAsync((s, ct) => s.UnderscoreTwinsAsync(ab: 1, a_b: 2, ct)));

        // Inside a unit of work the rolled-back unit is logged with the exception attached: no secret there either.
        await Assert.ThrowsAsync<QueryResultException>(() => db.ExecuteAsync((s, ct) => s.SecretAsDecimalAsync(ct)));
        AssertNoSecretLogged(logs);
    }

    /// <summary>DbCore's own log lines (Npgsql's Debug log of the command text, which holds the SQL literal, is Npgsql's).</summary>
    public static void AssertNoSecretLogged(LogCollector logs)
    {
        LogRecord[] dbcore = [.. logs.Records.Where(r => r.Category.StartsWith("DbCore", StringComparison.Ordinal))];
        Assert.Contains(dbcore, r => r.Exception is not null);
        Assert.All(dbcore, r => Assert.DoesNotContain(Secret, r.AllText, StringComparison.Ordinal));
    }

    public static async Task AssertPostgresAsync<TDb, TSession>(TDb db)
        where TDb : DatabaseAccessor<TSession>
        where TSession : DbSession, IHostilePgQueries
    {
        await using TSession session = db.CreateSession();

        // PostgreSQL's '24:00:00' and dates before year 1: Npgsql's ArgumentOutOfRangeException was raw.
        var time = await Assert.ThrowsAsync<QueryResultException>(() => session.ClosesAtAsync());
        Assert.Equal(("closes_at", "the result"), (time.Column, time.Member));
        var date = await Assert.ThrowsAsync<QueryResultException>(() => session.BeforeChristAsync());
        Assert.Equal(("born_on", "the result"), (date.Column, date.Member));

        // An empty text into a char: Npgsql's NpgsqlException was a plain DbCoreException naming no column.
        var initial = await Assert.ThrowsAsync<QueryResultException>(() => session.EmptyInitialAsync());
        Assert.Equal(("initial", "the result"), (initial.Column, initial.Member));

        // Nothing broke: the session runs the next statement (the same typed error again).
        Assert.Equal("closes_at", (await Assert.ThrowsAsync<QueryResultException>(() => session.ClosesAtAsync())).Column);
    }
}

public sealed class SqliteHostileValueTests
{
    /// <summary>Review helper-43: an array parameter on SQLite was Microsoft.Data.Sqlite's "No mapping exists from object type System.Int64[]".</summary>
    [Fact]
    public async Task An_array_parameter_on_SQLite_is_refused_naming_the_parameter()
    {
        await using var db = await TodoSchema.CreateAsync<QueryArrays, QueryArraysSession>(new QueryArrays(new QueryArraysSettings { ConnectionString = "Data Source=:memory:" }, "Production"), TodoSchema.Sqlite);
        await using QueryArraysSession session = db.CreateSession();
        var ex = await Assert.ThrowsAsync<NotSupportedException>(() => session.ByPrioritiesAsync([Priority.High]));
        Assert.Contains("'priorities'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("SQLite has no array parameters", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotSupportedException>(() => session.CountTitleListAsync(["a"]));
    }

    [Fact]
    public async Task Values_a_member_cannot_hold_are_typed_and_never_quote_a_secret_provider_chosen_at_run_time()
    {
        var logs = new LogCollector();
        await using var db = new HostileAny(new HostileAnySettings { ConnectionString = "Data Source=:memory:" }, "Production", logs);
        await HostileValues.AssertAsync<HostileAny, HostileAnySession>(db, logs);
    }

    [Fact]
    public async Task Values_a_member_cannot_hold_are_typed_and_never_quote_a_secret_pinned()
    {
        var logs = new LogCollector();
        await using var db = new HostileSqlite(new HostileSqliteSettings { ConnectionString = "Data Source=:memory:" }, "Production", logs);
        await HostileValues.AssertAsync<HostileSqlite, HostileSqliteSession>(db, logs);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresHostileValueTests(PostgresServer server)
{
    [PostgresFact]
    public async Task Values_a_member_cannot_hold_are_typed_and_never_quote_a_secret_provider_chosen_at_run_time()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("hostile");
        var logs = new LogCollector();
        await using var db = new HostileAny(new HostileAnySettings { ConnectionString = cs }, "Production", logs);
        await HostileValues.AssertAsync<HostileAny, HostileAnySession>(db, logs);
        await HostileValues.AssertPostgresAsync<HostileAny, HostileAnySession>(db);
    }

    [PostgresFact]
    public async Task Values_a_member_cannot_hold_are_typed_and_never_quote_a_secret_pinned()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("hostilepg");
        var logs = new LogCollector();
        await using var db = new HostilePg(new HostilePgSettings { ConnectionString = cs }, "Production", logs);
        await HostileValues.AssertAsync<HostilePg, HostilePgSession>(db, logs);
        await HostileValues.AssertPostgresAsync<HostilePg, HostilePgSession>(db);
    }

    /// <summary>
    /// PostgreSQL quotes the value it could not convert (22P02 invalid input syntax: "Host=db;Password=hunter2"): the
    /// translated exception's message was redacted, but its ToString (the inner PostgresException's message), and so the
    /// Warning log that attaches it, quoted the secret.
    /// </summary>
    [PostgresFact]
    public async Task A_server_error_quoting_a_secret_looking_value_is_redacted_in_ToString_and_logs()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("hostileerr");
        var logs = new LogCollector();
        await using var db = new HostilePg(new HostilePgSettings { ConnectionString = cs }, "Production", logs);
        var ex = await Assert.ThrowsAnyAsync<DbCoreException>(() => db.ExecuteAsync(async (session, ct) =>
        {
            await using var command = session.CreateCommand("SELECT CAST('Host=db;Password=hunter2' AS int)");
            await command.ExecuteScalarAsync(ct);
        }));

        Assert.Equal("22P02", ex.SqlState);
        Assert.DoesNotContain(HostileValues.Secret, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(HostileValues.Secret, ex.ToString(), StringComparison.Ordinal);
        HostileValues.AssertNoSecretLogged(logs);
    }
}
