using System.Net;
using System.Net.Http.Json;
using DbCore.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TodoDatabase = TodoApi.Database;
using TodoItem = TodoApi.Todo;

namespace DbCore.Tests.TodoApi;

/// <summary>
/// samples/TodoApi over real HTTP (WebApplicationFactory runs its Program with its own configuration), against a SQLite
/// file and against the test PostgreSQL. In the PostgreSQL collection so the app hosts start one at a time.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TodoApiTests(PostgresServer server)
{
    private static WebApplicationFactory<Program> CreateApp(string connectionString)
        => new WebApplicationFactory<Program>().WithWebHostBuilder(web => web.UseSetting("ConnectionStrings:Database", connectionString));

    private static string TempSqliteFile(out string directory)
    {
        directory = Path.Combine(Path.GetTempPath(), "dbcore-todoapi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "todo.db");
    }

    [Fact]
    public async Task Sqlite_crud_rollback_and_health()
    {
        string file = TempSqliteFile(out _);
        await using WebApplicationFactory<Program> app = CreateApp("Data Source=" + file);
        using HttpClient client = app.CreateClient();

        await CrudRollbackAndHealthAsync(client);
        Assert.Equal(DatabaseProvider.Sqlite, app.Services.GetRequiredService<TodoDatabase>().Provider);
    }

    [Fact]
    public async Task Sqlite_health_is_unhealthy_when_the_database_file_is_gone()
    {
        string file = TempSqliteFile(out string directory);
        await using WebApplicationFactory<Program> app = CreateApp("Data Source=" + file);
        using HttpClient client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        Directory.Delete(directory, recursive: true);
        var db = app.Services.GetRequiredService<TodoDatabase>();
        using (var connection = (SqliteConnection)db.DataSource.CreateConnection())
        {
            SqliteConnection.ClearPool(connection); // pooled handles would keep the unlinked file readable
        }

        await AssertHealthAsync(client, HttpStatusCode.ServiceUnavailable, "Unhealthy");
    }

    [PostgresFact]
    public async Task Postgres_crud_rollback_and_health()
    {
        string connectionString = await server.CreateDatabaseAsync("todoapi");
        await using WebApplicationFactory<Program> app = CreateApp(connectionString);
        using HttpClient client = app.CreateClient();

        await CrudRollbackAndHealthAsync(client);
        Assert.Equal(DatabaseProvider.PostgreSql, app.Services.GetRequiredService<TodoDatabase>().Provider);
    }

    [PostgresFact]
    public async Task Postgres_read_requests_send_no_transaction_statements()
    {
        string connectionString = await server.CreateDatabaseAsync("todoapi");
        await using WebApplicationFactory<Program> app = CreateApp(connectionString);
        using HttpClient client = app.CreateClient();
        TodoItem milk = (await (await client.PostAsJsonAsync("/todos", new { title = "buy milk" })).Content.ReadFromJsonAsync<TodoItem>())!;

        Dictionary<string, long> statements = await server.StatementsAsync(connectionString, async () =>
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(milk, await client.GetFromJsonAsync<TodoItem>($"/todos/{milk.Id}"));
                Assert.Single((await client.GetFromJsonAsync<List<TodoItem>>("/todos"))!);
            }
        });

        // The injected scoped session that only reads: its SELECTs, no BEGIN and no ROLLBACK (the read path).
        Assert.DoesNotContain(statements.Keys, q => q.StartsWith("BEGIN", StringComparison.Ordinal) || q == "ROLLBACK");
        Assert.Equal(10, statements.Where(s => s.Key.StartsWith("SELECT", StringComparison.Ordinal)).Sum(s => s.Value));
    }

    [PostgresFact]
    public async Task Postgres_health_is_unhealthy_when_the_database_is_dropped()
    {
        string connectionString = await server.CreateDatabaseAsync("todoapi");
        await using WebApplicationFactory<Program> app = CreateApp(connectionString);
        using HttpClient client = app.CreateClient();
        await AssertHealthAsync(client, HttpStatusCode.OK, "Healthy");

        await using (var admin = new NpgsqlConnection(server.BuildConnectionString("postgres", pooling: false)))
        {
            await admin.OpenAsync();
            string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
            await using var drop = new NpgsqlCommand($"DROP DATABASE \"{database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        await AssertHealthAsync(client, HttpStatusCode.ServiceUnavailable, "Unhealthy");
    }

    private static async Task CrudRollbackAndHealthAsync(HttpClient client)
    {
        // Create
        HttpResponseMessage created = await client.PostAsJsonAsync("/todos", new { title = "buy milk" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        TodoItem milk = (await created.Content.ReadFromJsonAsync<TodoItem>())!;
        Assert.Equal(new TodoItem(milk.Id, "buy milk", false), milk);
        Assert.Equal($"/todos/{milk.Id}", created.Headers.Location?.ToString());
        TodoItem bread = (await (await client.PostAsJsonAsync("/todos", new { title = "bake bread", done = true })).Content.ReadFromJsonAsync<TodoItem>())!;
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/todos", new { title = " " })).StatusCode);

        // Read
        Assert.Equal([milk, bread], await client.GetFromJsonAsync<List<TodoItem>>("/todos"));
        Assert.Equal(milk, await client.GetFromJsonAsync<TodoItem>($"/todos/{milk.Id}"));

        // Update
        HttpResponseMessage updated = await client.PutAsJsonAsync($"/todos/{milk.Id}", new { title = "buy oat milk", done = true });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(new TodoItem(milk.Id, "buy oat milk", true), await client.GetFromJsonAsync<TodoItem>($"/todos/{milk.Id}"));
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/todos/999999", new { title = "x" })).StatusCode);

        // Delete
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/todos/{bread.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/todos/{bread.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/todos/{bread.Id}")).StatusCode);

        // A handler that fails after writing: 500, and its row was rolled back.
        HttpResponseMessage failed = await client.PostAsJsonAsync("/todos/fail", new { title = "never stored" });
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        List<TodoItem> remaining = (await client.GetFromJsonAsync<List<TodoItem>>("/todos"))!;
        Assert.Equal([new TodoItem(milk.Id, "buy oat milk", true)], remaining);

        await AssertHealthAsync(client, HttpStatusCode.OK, "Healthy");
    }

    private static async Task AssertHealthAsync(HttpClient client, HttpStatusCode status, string body)
    {
        HttpResponseMessage health = await client.GetAsync("/health");
        Assert.Equal(status, health.StatusCode);
        Assert.Equal(body, await health.Content.ReadAsStringAsync());
    }
}
