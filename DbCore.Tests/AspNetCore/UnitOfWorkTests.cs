using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DbCore.AspNetCore;
using DbCore.Tests.Infrastructure;
using DbCore.Tests.Queries;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbCore.Tests.AspNetCore;

/// <summary>
/// DbCore.AspNetCore over real HTTP (Kestrel on a loopback port): a unit of work per request for minimal APIs and MVC,
/// DbCore errors as ProblemDetails, and the optional retry of the whole handler. Each test runs on SQLite and PostgreSQL.
/// </summary>
public abstract class UnitOfWorkTests
{
    protected abstract Task<string> ConnectionStringAsync();

    protected abstract string Schema { get; }

    /// <summary>Starts the app: minimal endpoints in a group with the unit of work, one MVC controller with the filter.</summary>
    protected async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<QueryAnySettings>? configure = null, bool retry = false)
    {
        string cs = await ConnectionStringAsync();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddQueryAny(configure: s =>
        {
            s.ConnectionString = cs;
            s.Retry.BaseDelayMilliseconds = 1;
            configure?.Invoke(s);
        });
        builder.Services.AddControllers(o => o.AddUnitOfWork<QueryAnySession>()).AddApplicationPart(typeof(TodosController).Assembly);
        builder.Services.AddSingleton(new Attempts());
        WebApplication app = builder.Build();

        await TodoSchema.CreateAsync(app.Services.GetRequiredService<QueryAny>(), Schema);

        RouteGroupBuilder todos = app.MapGroup("/todos").WithUnitOfWork<QueryAnySession>(o => o.RetryTransientFailures = retry);
        todos.MapPost("/", async (string title, QueryAnySession session, CancellationToken ct)
            => Results.Created("/todos", await session.InsertAsync(title, false, Priority.Low, null, ct)));
        todos.MapPost("/invalid", async Task<IResult> (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            return Results.BadRequest("the title is not allowed");
        });
        todos.MapPost("/throw", async Task<IResult> (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            throw new InvalidOperationException("business rule");
        });
        todos.MapPost("/twice", async Task<IResult> (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            return Results.Ok();
        });
        todos.MapPost("/conflict-once", async Task<IResult> (string title, QueryAnySession session, Attempts attempts, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            if (Interlocked.Increment(ref attempts.Count) == 1)
            {
                // A real serialization failure raised by the server (SQLSTATE 40001), after the insert.
                await using var command = session.CreateCommand("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$");
                await command.ExecuteNonQueryAsync(ct);
            }

            return Results.Ok(attempts.Count);
        });
        todos.MapGet("/slow", async Task<IResult> (QueryAnySession session, CancellationToken ct) =>
        {
            await using var command = session.CreateCommand("SELECT pg_sleep(5)");
            await command.ExecuteNonQueryAsync(ct);
            return Results.Ok();
        });
        todos.MapGet("/", async (QueryAnySession session, CancellationToken ct) => Results.Ok(await session.ListAsync(ct)));
        todos.MapGet("/nothing", () => Results.Ok("no database"));
        app.MapControllers();

        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new HttpClient { BaseAddress = new Uri(address) });
    }

    protected static async Task<List<Todo>> ListAsync(HttpClient client)
        => (await client.GetFromJsonAsync<List<Todo>>("/todos/"))!;

    [Fact]
    public async Task A_successful_handler_commits_and_a_failed_one_rolls_back()
    {
        (WebApplication app, HttpClient client) = await StartAsync();
        await using (app)
        using (client)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/todos/?title=kept", null)).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/todos/invalid?title=refused", null)).StatusCode);
            Assert.Equal(HttpStatusCode.InternalServerError, (await client.PostAsync("/todos/throw?title=thrown", null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/todos/nothing")).StatusCode);

            Assert.Equal(new[] { "kept" }, (await ListAsync(client)).Select(t => t.Title));
        }
    }

    [Fact]
    public async Task A_unique_violation_is_a_409_problem_and_nothing_of_the_request_is_kept()
    {
        (WebApplication app, HttpClient client) = await StartAsync();
        await using (app)
        using (client)
        {
            HttpResponseMessage response = await client.PostAsync("/todos/twice?title=dup", null);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(409, problem.GetProperty("status").GetInt32());
            Assert.Equal("UniqueViolationException", problem.GetProperty("error").GetString());
            Assert.Empty(await ListAsync(client));
        }
    }

    [Fact]
    public async Task Mvc_actions_commit_on_success_and_roll_back_otherwise()
    {
        (WebApplication app, HttpClient client) = await StartAsync();
        await using (app)
        using (client)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/mvc/todos?title=kept", null)).StatusCode);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, (await client.PostAsync("/mvc/todos/invalid?title=refused", null)).StatusCode);
            HttpResponseMessage conflict = await client.PostAsync("/mvc/todos/twice?title=dup", null);
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
            Assert.Equal(new[] { "kept" }, (await ListAsync(client)).Select(t => t.Title));
        }
    }
}

/// <summary>How many times a handler ran, shared by the requests of one test app.</summary>
public sealed class Attempts
{
    public int Count;
}

[ApiController]
[Route("mvc/todos")]
public sealed class TodosController(QueryAnySession session) : ControllerBase
{
    [HttpPost]
    public async Task<IActionResult> CreateAsync(string title, CancellationToken ct)
        => Ok(await session.InsertAsync(title, false, Priority.Low, null, ct));

    [HttpPost("invalid")]
    public async Task<IActionResult> InvalidAsync(string title, CancellationToken ct)
    {
        await session.InsertAsync(title, false, Priority.Low, null, ct);
        return UnprocessableEntity();
    }

    [HttpPost("twice")]
    public async Task<IActionResult> TwiceAsync(string title, CancellationToken ct)
    {
        await session.InsertAsync(title, false, Priority.Low, null, ct);
        await session.InsertAsync(title, false, Priority.Low, null, ct);
        return Ok();
    }
}

public sealed class SqliteUnitOfWorkTests : UnitOfWorkTests, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbcore-web-").FullName;

    protected override Task<string> ConnectionStringAsync() => Task.FromResult($"Data Source={Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db")}");

    protected override string Schema => TodoSchema.Sqlite;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresUnitOfWorkTests(PostgresServer server) : UnitOfWorkTests
{
    protected override Task<string> ConnectionStringAsync()
    {
        server.EnsureAvailable();
        return server.CreateDatabaseAsync("web");
    }

    protected override string Schema => TodoSchema.PostgreSql;

    [PostgresFact]
    public async Task A_transient_failure_runs_the_whole_handler_again_on_a_fresh_session_when_retry_is_on()
    {
        (WebApplication app, HttpClient client) = await StartAsync(retry: true);
        await using (app)
        using (client)
        {
            HttpResponseMessage response = await client.PostAsync("/todos/conflict-once?title=once", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(2, await response.Content.ReadFromJsonAsync<int>()); // the handler ran twice
            Assert.Equal(new[] { "once" }, (await ListAsync(client)).Select(t => t.Title)); // the first attempt's insert rolled back
        }
    }

    [PostgresFact]
    public async Task Without_retry_a_transient_failure_is_a_503_with_retry_after()
    {
        (WebApplication app, HttpClient client) = await StartAsync();
        await using (app)
        using (client)
        {
            HttpResponseMessage response = await client.PostAsync("/todos/conflict-once?title=once", null);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("SerializationFailureException", problem.GetProperty("error").GetString());
            Assert.Equal("40001", problem.GetProperty("sqlState").GetString());
            Assert.Empty(await ListAsync(client));
        }
    }

    [PostgresFact]
    public async Task A_command_timeout_is_a_504()
    {
        (WebApplication app, HttpClient client) = await StartAsync(s => s.CommandTimeoutSeconds = 1);
        await using (app)
        using (client)
        {
            HttpResponseMessage response = await client.GetAsync("/todos/slow");
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("CommandTimeoutException", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
    }

    [PostgresFact]
    public async Task An_exhausted_pool_is_a_503_with_retry_after()
    {
        (WebApplication app, HttpClient client) = await StartAsync(s =>
        {
            s.Pool.Size = 1;
            s.Pool.MaxOverflow = 0;
            s.Pool.AcquireTimeoutSeconds = 1;
        });
        await using (app)
        using (client)
        {
            // The only connection is held by a session outside the request.
            await using QueryAnySession holder = await app.Services.GetRequiredService<QueryAny>().OpenSessionAsync();
            await holder.CountAsync("x");
            HttpResponseMessage response = await client.GetAsync("/todos/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("PoolExhaustedException", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        }
    }
}
