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
using Microsoft.AspNetCore.Http.HttpResults;
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
    protected async Task<(WebApplication App, HttpClient Client)> StartAsync(Action<QueryAnySettings>? configure = null, bool retry = false, LogCollector? logs = null)
    {
        string cs = await ConnectionStringAsync();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }
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
        todos.MapGet("/stream-once-conflicted", async (QueryAnySession session, Attempts attempts, CancellationToken ct) =>
        {
            if (Interlocked.Increment(ref attempts.Count) == 1)
            {
                await using var command = session.CreateCommand("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$");
                await command.ExecuteNonQueryAsync(ct);
            }

            return session.StreamAsync(ct); // the retry's session: it must live until the stream ran
        });
        todos.MapGet("/slow", async Task<IResult> (QueryAnySession session, CancellationToken ct) =>
        {
            await using var command = session.CreateCommand("SELECT pg_sleep(5)");
            await command.ExecuteNonQueryAsync(ct);
            return Results.Ok();
        });
        // Results<...> (the typed union minimal APIs declare) exposes its status only through the result inside it.
        todos.MapPost("/union", async Task<Results<Created<Todo>, BadRequest<string>>> (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            return TypedResults.BadRequest("refused");
        });
        todos.MapPost("/redirect", async Task<IResult> (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            return Results.Redirect("/todos/"); // post/redirect/get
        });
        todos.MapPost("/then-stream", async (string title, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            return session.StreamAsync(ct); // read when the result runs, after the handler returned
        });
        todos.MapGet("/read-then-stream", async (QueryAnySession session, CancellationToken ct) =>
        {
            await session.CountAsync("x", ct);
            return session.StreamAsync(ct);
        });
        todos.MapGet("/bug", async (QueryAnySession session, CancellationToken ct) => Results.Ok(await session.MaxNegativeIdAsync(ct)));
        todos.MapPost("/started-then-conflict", async Task (string title, HttpContext http, QueryAnySession session, CancellationToken ct) =>
        {
            await session.InsertAsync(title, false, Priority.Low, null, ct);
            await http.Response.WriteAsync("[", ct);
            await http.Response.Body.FlushAsync(ct); // the response has started
            await session.InsertAsync(title, false, Priority.Low, null, ct);
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

    /// <summary>
    /// Review helper-44: a <c>Results&lt;...&gt;</c> union's BadRequest committed (its status is the inner result's, and the
    /// response's was still 200); a redirect after a write (post/redirect/get) is a success and commits.
    /// </summary>
    [Fact]
    public async Task A_typed_union_commits_by_the_status_of_the_result_it_holds_and_a_redirect_commits()
    {
        (WebApplication app, HttpClient client) = await StartAsync();
        await using (app)
        using (client)
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/todos/union?title=refused", null)).StatusCode);
            Assert.Empty(await ListAsync(client));
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/todos/redirect?title=kept", null)).StatusCode); // followed to the list
            Assert.Equal(new[] { "kept" }, (await ListAsync(client)).Select(t => t.Title));
        }
    }

    /// <summary>
    /// Review helper-44: a handler that wrote and returned a stream of the session committed, then the stream failed on the
    /// committed session: a 500 for a write that was kept (a client retry duplicates it). Now the write rolls back and the
    /// error says why. A stream after reads only streams (nothing to commit).
    /// </summary>
    [Fact]
    public async Task A_stream_returned_after_a_write_rolls_the_write_back_and_one_after_reads_streams()
    {
        var logs = new LogCollector();
        (WebApplication app, HttpClient client) = await StartAsync(logs: logs);
        await using (app)
        using (client)
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/todos/?title=first", null)).StatusCode);
            Assert.Equal(HttpStatusCode.InternalServerError, (await client.PostAsync("/todos/then-stream?title=lost", null)).StatusCode);
            Assert.Equal(new[] { "first" }, (await ListAsync(client)).Select(t => t.Title));
            Assert.Contains(logs.Records, r => r.Exception is { } e && e.Contains("Read the rows into a list", StringComparison.Ordinal));

            List<Todo>? streamed = await client.GetFromJsonAsync<List<Todo>>("/todos/read-then-stream");
            Assert.Equal(new[] { "first" }, streamed!.Select(t => t.Title));
        }
    }

    /// <summary>Review helper-44: a DbCore error turned into a 5xx problem was logged nowhere (no exception escaped the filter).</summary>
    [Fact]
    public async Task A_5xx_problem_is_logged_with_its_exception()
    {
        var logs = new LogCollector();
        (WebApplication app, HttpClient client) = await StartAsync(logs: logs);
        await using (app)
        using (client)
        {
            await client.PostAsync("/todos/?title=a", null);
            Assert.Equal(HttpStatusCode.InternalServerError, (await client.GetAsync("/todos/bug")).StatusCode);
            LogRecord logged = Assert.Single(logs.Records, r => r.Category.StartsWith("DbCore.AspNetCore", StringComparison.Ordinal) && r.Level == LogLevel.Error);
            Assert.Contains("QueryResultException", logged.Exception, StringComparison.Ordinal);
            Assert.Contains("/todos/bug", logged.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Review helper-44: a DbCore error after the handler started the response was answered with a problem whose status
    /// could no longer be set: the server logged "StatusCode cannot be set" and the database error appeared nowhere.
    /// </summary>
    [Fact]
    public async Task A_failure_after_the_response_started_rolls_back_and_surfaces_as_itself()
    {
        var logs = new LogCollector();
        (WebApplication app, HttpClient client) = await StartAsync(logs: logs);
        await using (app)
        using (client)
        {
            try
            {
                HttpResponseMessage response = await client.PostAsync("/todos/started-then-conflict?title=dup", null);
                await response.Content.ReadAsStringAsync(); // the response is cut off, or ends short
            }
            catch (HttpRequestException)
            {
            }

            Assert.Empty(await ListAsync(client));
            Assert.DoesNotContain(logs.Records, r => r.AllText.Contains("StatusCode cannot be set", StringComparison.Ordinal) || r.AllText.Contains("Headers are read-only", StringComparison.Ordinal));
            Assert.Contains(logs.Records, r => r.Exception is { } e && e.Contains(nameof(UniqueViolationException), StringComparison.Ordinal));
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

            Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/mvc/todos/iresult-not-found?title=gone", null)).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/mvc/todos/union-bad-request?title=refused2", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/mvc/todos/iresult-created?title=kept2", null)).StatusCode);
            Assert.Equal(new[] { "kept", "kept2" }, (await ListAsync(client)).Select(t => t.Title));
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

    // An action returning a minimal-API result: MVC wraps it in an internal HttpActionResult (review helper-45: committed on a 4xx).
    [HttpPost("iresult-not-found")]
    public async Task<IResult> IResultNotFoundAsync(string title, CancellationToken ct)
    {
        await session.InsertAsync(title, false, Priority.Low, null, ct);
        return TypedResults.NotFound();
    }

    [HttpPost("union-bad-request")]
    public async Task<Results<Ok, BadRequest<string>>> UnionBadRequestAsync(string title, CancellationToken ct)
    {
        await session.InsertAsync(title, false, Priority.Low, null, ct);
        return TypedResults.BadRequest("refused");
    }

    [HttpPost("iresult-created")]
    public async Task<IResult> IResultCreatedAsync(string title, CancellationToken ct)
        => TypedResults.Created("/mvc/todos", await session.InsertAsync(title, false, Priority.Low, null, ct));

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

    /// <summary>Review helper-44: the retried handler's session was disposed with its scope before its stream result ran (a 500).</summary>
    [PostgresFact]
    public async Task A_retried_handler_can_return_a_stream_of_its_fresh_session()
    {
        (WebApplication app, HttpClient client) = await StartAsync(retry: true);
        await using (app)
        using (client)
        {
            await client.PostAsync("/todos/?title=a", null);
            List<Todo>? streamed = await client.GetFromJsonAsync<List<Todo>>("/todos/stream-once-conflicted");
            Assert.Equal(new[] { "a" }, streamed!.Select(t => t.Title));
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
