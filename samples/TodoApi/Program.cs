using DbCore;
using DbCore.AspNetCore;
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

// A unit of work per request (DbCore.AspNetCore): the scoped session commits when the handler's result is a success
// (2xx) and rolls back otherwise (a 4xx/5xx result or an exception), so handlers never call CommitAsync. DbCore errors
// become ProblemDetails (a unique violation 409, an exhausted pool 503 with Retry-After, a command timeout 504).
// Reads send no BEGIN/COMMIT on PostgreSQL. The handlers call the typed queries declared on the session (DatabaseSession.cs).
RouteGroupBuilder todos = app.MapGroup("/todos").WithUnitOfWork<DatabaseSession>();

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
    return Results.Created($"/todos/{todo.Id}", todo);
});

todos.MapPut("/{id:long}", async (long id, TodoInput input, DatabaseSession session, CancellationToken ct) =>
{
    if (string.IsNullOrWhiteSpace(input.Title))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["title"] = ["A title is required."] });
    }

    Todo? todo = await session.UpdateTodoAsync(id, input.Title, input.Done, ct);
    return todo is null ? Results.NotFound() : Results.Ok(todo);
});

todos.MapDelete("/{id:long}", async (long id, DatabaseSession session, CancellationToken ct) =>
{
    return await session.DeleteTodoAsync(id, ct) == 0 ? Results.NotFound() : Results.NoContent();
});

// Writes a row, then fails: the request ends with 500 and the unit of work rolls the row back.
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
