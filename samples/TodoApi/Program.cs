using DbCore;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using TodoApi;

// One line of DbCore setup: the accessor (singleton), the scoped DatabaseSession injected into handlers, logging, metrics.
// Connection string: DATABASE_URL > ConnectionStrings:Database > Database:ConnectionString > "Data Source=todo.db".
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddDatabase(builder.Configuration);
builder.Services.AddHealthChecks().AddDatabaseHealthCheck(tags: ["ready"]);
builder.Services.AddProblemDetails();

WebApplication app = builder.Build();
app.UseExceptionHandler();

// Create the table before the server accepts requests (one unit of work: open, begin, run, commit).
Database database = app.Services.GetRequiredService<Database>();
await database.ExecuteAsync((session, ct) => database.Provider == DatabaseProvider.PostgreSql
    ? session.CreatePostgreSqlSchemaAsync(ct)
    : session.CreateSqliteSchemaAsync(ct));

// Commit idiom: the scoped session is never committed automatically. A handler that writes calls
// `await session.CommitAsync(ct)` once its work succeeded; anything else (an exception, an early return) leaves the
// transaction uncommitted, and disposing the request scope rolls it back. Read-only handlers do not commit.
// The handlers call the typed queries declared on the session (DatabaseSession.cs).
RouteGroupBuilder todos = app.MapGroup("/todos");

todos.MapGet("/", (DatabaseSession session, CancellationToken ct) => session.ListTodosAsync(ct));

todos.MapGet("/{id:long}", async (long id, DatabaseSession session, CancellationToken ct) =>
    await session.FindTodoAsync(id, ct) is { } todo ? Results.Ok(todo) : Results.NotFound());

todos.MapPost("/", async (TodoInput input, DatabaseSession session, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(input.Title))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["A title is required."] });
    }

    Todo todo = await session.InsertTodoAsync(input.Title, input.Done, ct);
    await session.CommitAsync(ct);
    return Results.Created($"/todos/{todo.Id}", todo);
});

todos.MapPut("/{id:long}", async (long id, TodoInput input, DatabaseSession session, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(input.Title))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["A title is required."] });
    }

    Todo? todo = await session.UpdateTodoAsync(id, input.Title, input.Done, ct);
    if (todo is null)
    {
        return Results.NotFound();
    }

    await session.CommitAsync(ct);
    return Results.Ok(todo);
});

todos.MapDelete("/{id:long}", async (long id, DatabaseSession session, CancellationToken ct) =>
{
    if (await session.DeleteTodoAsync(id, ct) == 0)
    {
        return Results.NotFound();
    }

    await session.CommitAsync(ct);
    return Results.NoContent();
});

// Writes a row, then fails before committing: the request ends with 500 and the row is rolled back.
todos.MapPost("/fail", async (TodoInput input, DatabaseSession session, CancellationToken ct) =>
{
    await session.InsertTodoAsync(input.Title, input.Done, ct);
    throw new InvalidOperationException("Simulated failure after the write; the transaction is rolled back.");
});

// Pool state, the equivalent of SQLAlchemy's pool.status().
app.MapGet("/pool", (Database db) => Results.Ok(new
{
    provider = db.Provider.ToString(),
    environment = db.Environment,
    status = db.GetPoolStatistics().ToString(),
}));

// 200 "Healthy" when SELECT 1 answers within the health timeout, else 503 "Unhealthy".
app.MapHealthChecks("/health", new HealthCheckOptions());

app.Run();

/// <summary>The entry point; public so integration tests can use <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
