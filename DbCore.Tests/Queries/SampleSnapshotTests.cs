extern alias quickstart;

using DbCore.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace DbCore.Tests.Queries;

/// <summary>
/// The samples ship their query snapshot (samples/*/dbcore.queries.json), and these tests are the CI check that each is what
/// VerifyQueriesAsync writes against the database the sample runs on: Quickstart on SQLite (its own CREATE TABLE), TodoApi
/// on PostgreSQL, its production provider. <c>DBCORE_UPDATE_SNAPSHOTS=1 dotnet test DbCore.Tests --filter
/// FullyQualifiedName~SampleSnapshotTests</c> rewrites them.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SampleSnapshotTests(PostgresServer server)
{
    [Fact]
    public async Task The_Quickstart_snapshot_is_current()
    {
        string directory = Directory.CreateTempSubdirectory("dbcore-quickstart-").FullName;
        try
        {
            await using var db = new quickstart::Quickstart.Database(new quickstart::Quickstart.DatabaseSettings { ConnectionString = "Data Source=" + Path.Combine(directory, "q.db") }, "Development");
            await db.ExecuteAsync((s, ct) => s.CreateSqliteTableAsync(ct));
            await db.VerifyQueriesAsync(QuerySnapshots.ForSample("Quickstart"));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [PostgresFact]
    public async Task The_TodoApi_snapshot_is_what_VerifyQueriesAsync_writes_against_PostgreSQL()
    {
        server.EnsureAvailable();
        string cs = await server.CreateDatabaseAsync("todoapi_snapshot");
        await using var db = new global::TodoApi.Database(new global::TodoApi.DatabaseSettings { ConnectionString = cs }, "Production");
        await db.ExecuteAsync((s, ct) => s.CreatePostgreSqlSchemaAsync(ct));
        await db.VerifyQueriesAsync(QuerySnapshots.ForSample("TodoApi"));
    }
}
