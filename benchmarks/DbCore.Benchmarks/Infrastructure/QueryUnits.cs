using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace DbCore.Benchmarks.Infrastructure;

/// <summary>The row every query contender reads (both providers, both shapes).</summary>
/// <param name="Id">The primary key.</param>
/// <param name="RandomNumber">A payload column (<c>randomnumber</c>).</param>
public sealed record World(long Id, long RandomNumber);

/// <summary>
/// The query benchmark's table and statements: <c>world</c> with <see cref="Rows"/> rows (TechEmpower's shape), a lookup
/// by primary key and a 20-row list after a key. Keys run through the table in the same sequence for every contender.
/// </summary>
internal static class QuerySql
{
    public const int Rows = 10_000;

    public const int ListSize = 20;

    /// <summary>What the typed query method, Dapper and Dapper.AOT send (named placeholders).</summary>
    public const string Find = "SELECT id, randomnumber FROM world WHERE id = @id";

    public const string List = "SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20";

    /// <summary>Hand-written Npgsql: positional placeholders, what the generator rewrites <see cref="Find"/> to.</summary>
    public const string FindPositional = "SELECT id, randomnumber FROM world WHERE id = $1";

    public const string ListPositional = "SELECT id, randomnumber FROM world WHERE id > $1 ORDER BY id LIMIT 20";

    public static string CreateTable(bool postgres) => postgres
        ? "DROP TABLE IF EXISTS world; CREATE TABLE world (id bigint PRIMARY KEY, randomnumber bigint NOT NULL)"
        : "DROP TABLE IF EXISTS world; CREATE TABLE world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL)";

    /// <summary>One INSERT of all rows; randomnumber is a fixed function of the id, so both databases hold the same data.</summary>
    public static string Seed() => "INSERT INTO world (id, randomnumber) VALUES " + string.Join(", ", Enumerable.Range(1, Rows).Select(i => "(" + i + ", " + ((i * 7919L % Rows) + 1) + ")"));

    /// <summary>The key of unit <paramref name="n"/>: a lookup id in 1..Rows, or a list's lower bound with 20 rows after it.</summary>
    public static long Key(QueryShape shape, long n) => shape == QueryShape.Lookup ? (n % Rows) + 1 : n * 7 % (Rows - ListSize);
}

internal enum QueryShape
{
    /// <summary>One row by primary key (<c>Task&lt;World?&gt;</c>).</summary>
    Lookup,

    /// <summary>20 rows (<c>Task&lt;List&lt;World&gt;&gt;</c>).</summary>
    List,
}

/// <summary>
/// One query contender. <see cref="UnitOfWork.RunAsync"/> runs the next key of the sequence (each contender counts its
/// own units, so all see the same keys in the same order); <see cref="FetchAsync"/> is for the check before timing.
/// </summary>
internal abstract class QueryUnit : UnitOfWork
{
    private long _next;

    protected QueryUnit(string name, string provider, QueryShape shape)
        : base(name, provider)
    {
        Shape = shape;
    }

    public QueryShape Shape { get; }

    public override Task RunAsync(CancellationToken cancellationToken)
    {
        long key = QuerySql.Key(Shape, _next++);
        return Shape == QueryShape.Lookup ? FindAsync(key, cancellationToken) : ListAsync(key, cancellationToken);
    }

    /// <summary>The rows for <paramref name="key"/> (the lookup's row, or none, as a list).</summary>
    public async Task<List<World>> FetchAsync(long key)
    {
        if (Shape == QueryShape.List)
        {
            return await ListAsync(key, CancellationToken.None).ConfigureAwait(false);
        }

        World? row = await FindAsync(key, CancellationToken.None).ConfigureAwait(false);
        return row is null ? [] : [row];
    }

    protected abstract Task<World?> FindAsync(long id, CancellationToken cancellationToken);

    protected abstract Task<List<World>> ListAsync(long after, CancellationToken cancellationToken);
}

/// <summary>
/// (a) The typed query methods on a read-only session (on PostgreSQL: no BEGIN for a read, as raw): <c>dbcore-query</c> on
/// the pinned settings classes, <c>dbcore-query-auto</c> on the <c>Auto</c> one.
/// </summary>
internal sealed class DbCoreQueryUnit<TSession>(
    string name,
    string provider,
    Func<CancellationToken, ValueTask<TSession>> open,
    Func<TSession, long, CancellationToken, Task<World?>> find,
    Func<TSession, long, CancellationToken, Task<List<World>>> list,
    QueryShape shape)
    : QueryUnit(name, provider, shape)
    where TSession : DbSession
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using TSession session = await open(cancellationToken).ConfigureAwait(false);
        return await find(session, id, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using TSession session = await open(cancellationToken).ConfigureAwait(false);
        return await list(session, after, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// (a, the web idiom) The typed query methods on a lazily opened session (<c>CreateSession</c>, what DI injects as a scoped
/// service): opened by the query method's <c>OpenAsync</c>, disposed without commit. PostgreSQL: a read begins no
/// transaction, so this is the read-only session's work; SQLite: a write session (<c>BEGIN IMMEDIATE</c>, ROLLBACK at dispose).
/// </summary>
internal sealed class DbCoreScopedQueryUnit<TSession>(Func<TSession> create, Func<TSession, long, CancellationToken, Task<World?>> find, Func<TSession, long, CancellationToken, Task<List<World>>> list, string provider, QueryShape shape)
    : QueryUnit("dbcore-query-scoped", provider, shape)
    where TSession : DbSession
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using TSession session = create();
        return await find(session, id, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using TSession session = create();
        return await list(session, after, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// (a, diagnostic) Hand-written ADO.NET inside the same read-only DbCore session as <c>dbcore-query</c>:
/// the difference to (a) is the generated method's own cost, the difference to (b) the session's.
/// </summary>
internal sealed class DbCorePgSessionAdoUnit(PgBench database, QueryShape shape) : QueryUnit("dbcore-session-ado", "postgresql", shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using PgBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlCommand command = session.CreateCommand(QuerySql.FindPositional);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new World(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using PgBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        await using NpgsqlCommand command = session.CreateCommand(QuerySql.ListPositional);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<World>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }
}

/// <summary>
/// (b) Hand-written Npgsql: positional <c>$1</c>, <see cref="NpgsqlParameter{T}"/>, ordinal getters, no transaction.
/// The hand-written contenders repeat their read loops on purpose: each is the plain inline code a user would write, and
/// a shared helper would add an async method (and its allocation) to the baseline.
/// </summary>
internal sealed class RawNpgsqlQueryUnit(NpgsqlDataSource dataSource, QueryShape shape, string name = "raw-ado") : QueryUnit(name, "postgresql", shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(QuerySql.FindPositional, connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new World(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(QuerySql.ListPositional, connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<World>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }
}

/// <summary>
/// (c) Dapper on a plain <see cref="DbConnection"/> from the same data source (reflection-emitted materializer, cached
/// per SQL text). <c>[DapperAot(false)]</c>: Dapper.AOT's interceptors stay off here. The SQL is passed directly, not in a
/// <c>CommandDefinition</c> (Dapper.AOT cannot read that at build time, DAP057), so these overloads take no cancellation
/// token; the harness never cancels a unit.
/// </summary>
[DapperAot(false)]
internal sealed class DapperQueryUnit(Func<CancellationToken, ValueTask<DbConnection>> open, string provider, QueryShape shape) : QueryUnit("dapper", provider, shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await open(cancellationToken).ConfigureAwait(false);
        return await connection.QueryFirstOrDefaultAsync<World>(QuerySql.Find, new { id }).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await open(cancellationToken).ConfigureAwait(false);
        IEnumerable<World> rows = await connection.QueryAsync<World>(QuerySql.List, new { after }).ConfigureAwait(false);
        return rows.AsList();
    }
}

/// <summary>
/// (d) The same calls as <see cref="DapperQueryUnit"/> with Dapper.AOT's interceptors on (<c>[DapperAot]</c>, and
/// <c>InterceptorsNamespaces</c> in the project): the calls are replaced at build time by generated code.
/// </summary>
[DapperAot]
internal sealed class DapperAotQueryUnit(Func<CancellationToken, ValueTask<DbConnection>> open, string provider, QueryShape shape) : QueryUnit("dapper-aot", provider, shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await open(cancellationToken).ConfigureAwait(false);
        return await connection.QueryFirstOrDefaultAsync<World>(QuerySql.Find, new { id }).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using DbConnection connection = await open(cancellationToken).ConfigureAwait(false);
        IEnumerable<World> rows = await connection.QueryAsync<World>(QuerySql.List, new { after }).ConfigureAwait(false);
        return rows.AsList();
    }
}

/// <summary>The EF Core model of <c>world</c>, one context type per provider (each gets its own compiled queries).</summary>
internal abstract class WorldContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<World> Worlds => Set<World>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<World>(world =>
        {
            world.ToTable("world");
            world.HasKey(w => w.Id);
            world.Property(w => w.Id).HasColumnName("id").ValueGeneratedNever();
            world.Property(w => w.RandomNumber).HasColumnName("randomnumber");
        });
    }
}

internal sealed class PgWorldContext(DbContextOptions<PgWorldContext> options) : WorldContext(options);

internal sealed class SqliteWorldContext(DbContextOptions<SqliteWorldContext> options) : WorldContext(options);

/// <summary>(e) EF Core: pooled context, compiled no-tracking LINQ (<see cref="EF.CompileAsyncQuery{TContext, TParam1, TResult}(System.Linq.Expressions.Expression{Func{TContext, TParam1, TResult}})"/>).</summary>
internal sealed class EfCoreQueryUnit<TContext>(PooledDbContextFactory<TContext> factory, string provider, QueryShape shape) : QueryUnit("efcore-compiled", provider, shape)
    where TContext : WorldContext
{
    private static readonly Func<TContext, long, Task<World?>> s_find =
        EF.CompileAsyncQuery((TContext context, long id) => context.Worlds.AsNoTracking().FirstOrDefault(w => w.Id == id));

    private static readonly Func<TContext, long, IAsyncEnumerable<World>> s_list =
        EF.CompileAsyncQuery((TContext context, long after) => context.Worlds.AsNoTracking().Where(w => w.Id > after).OrderBy(w => w.Id).Take(QuerySql.ListSize));

    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using TContext context = factory.CreateDbContext();
        return await s_find(context, id).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using TContext context = factory.CreateDbContext();
        var rows = new List<World>();
        await foreach (World row in s_list(context, after).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        return rows;
    }
}

/// <summary>(a) with the <c>ValueTask</c> forms of the typed query methods (pooled state machines), on a read-only session.</summary>
internal sealed class DbCoreValueTaskQueryUnit<TSession>(Func<CancellationToken, ValueTask<TSession>> open, Func<TSession, long, CancellationToken, ValueTask<World?>> find, Func<TSession, long, CancellationToken, ValueTask<List<World>>> list, string provider, QueryShape shape)
    : QueryUnit("dbcore-query-vt", provider, shape)
    where TSession : DbSession
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using TSession session = await open(cancellationToken).ConfigureAwait(false);
        return await find(session, id, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using TSession session = await open(cancellationToken).ConfigureAwait(false);
        return await list(session, after, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>(a, diagnostic) Hand-written ADO.NET inside the same read-only DbCore session on SQLite.</summary>
internal sealed class DbCoreSqliteSessionAdoUnit(SqliteBench database, QueryShape shape) : QueryUnit("dbcore-session-ado", "sqlite", shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = session.CreateCommand(QuerySql.Find);
        command.Parameters.AddWithValue("@id", id);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new World(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using SqliteBenchSession session = await database.OpenReadOnlySessionAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = session.CreateCommand(QuerySql.List);
        command.Parameters.AddWithValue("@after", after);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<World>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }
}

/// <summary>(b) on SQLite: hand-written Microsoft.Data.Sqlite (pooled, autocommit, no explicit transaction), ordinal getters.</summary>
internal sealed class RawSqliteQueryUnit(string connectionString, QueryShape shape) : QueryUnit("raw-ado", "sqlite", shape)
{
    protected override async Task<World?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = QuerySql.Find;
        command.Parameters.AddWithValue("@id", id);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new World(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    protected override async Task<List<World>> ListAsync(long after, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = QuerySql.List;
        command.Parameters.AddWithValue("@after", after);
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<World>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new World(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return rows;
    }
}

/// <summary>Builds the query contenders of both providers over the environment's databases (one pool per provider).</summary>
internal static class QueryContenders
{
    /// <summary>(a) on SQLite: the typed query methods on a read-only session.</summary>
    public static QueryUnit DbCoreSqlite(SqliteBench database, QueryShape shape)
        => new DbCoreQueryUnit<SqliteBenchSession>("dbcore-query", "sqlite", database.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), shape);

    /// <summary>Creates and fills <c>world</c> on PostgreSQL through <paramref name="dataSource"/>.</summary>
    public static async Task SeedPostgresAsync(NpgsqlDataSource dataSource)
    {
        await using NpgsqlConnection connection = await dataSource.OpenConnectionAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(QuerySql.CreateTable(postgres: true) + "; " + QuerySql.Seed() + "; ANALYZE world", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Creates and fills <c>world</c> in the SQLite file.</summary>
    public static async Task SeedSqliteAsync(string connectionString)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = QuerySql.CreateTable(postgres: false) + "; " + QuerySql.Seed();
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// PostgreSQL: every contender uses <paramref name="dataSource"/> (DbCore's own data source: one pool for all).
    /// The first is the baseline (b).
    /// </summary>
    public static QueryUnit[] Postgres(PgBench database, AutoBench auto, NpgsqlDataSource dataSource, PooledDbContextFactory<PgWorldContext> ef, QueryShape shape)
    {
        DbDataSource plain = dataSource;
        Func<CancellationToken, ValueTask<DbConnection>> open = plain.OpenConnectionAsync;
        return
        [
            new RawNpgsqlQueryUnit(dataSource, shape),
            new DbCoreQueryUnit<PgBenchSession>("dbcore-query", "postgresql", database.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), shape),
            new DbCoreValueTaskQueryUnit<PgBenchSession>(database.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldValueAsync(id, ct), static (s, after, ct) => s.ListWorldsValueAsync(after, ct), "postgresql", shape),
            new DbCoreScopedQueryUnit<PgBenchSession>(database.CreateSession, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), "postgresql", shape),
            new DbCorePgSessionAdoUnit(database, shape),
            new DbCoreQueryUnit<AutoBenchSession>("dbcore-query-auto", "postgresql", auto.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), shape),
            new RawNpgsqlQueryUnit((NpgsqlDataSource)auto.DataSource, shape, "raw-ado-auto-pool"),
            new DapperQueryUnit(open, "postgresql", shape),
            new DapperAotQueryUnit(open, "postgresql", shape),
            new EfCoreQueryUnit<PgWorldContext>(ef, "postgresql", shape),
        ];
    }

    /// <summary>SQLite: every contender uses <paramref name="connectionString"/> (DbCore's; Microsoft.Data.Sqlite pools by it).</summary>
    public static QueryUnit[] Sqlite(SqliteBench database, AutoBench auto, string connectionString, PooledDbContextFactory<SqliteWorldContext> ef, QueryShape shape)
    {
        Func<CancellationToken, ValueTask<DbConnection>> open = async ct =>
        {
            var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        };
        return
        [
            new RawSqliteQueryUnit(connectionString, shape),
            QueryContenders.DbCoreSqlite(database, shape),
            new DbCoreValueTaskQueryUnit<SqliteBenchSession>(database.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldValueAsync(id, ct), static (s, after, ct) => s.ListWorldsValueAsync(after, ct), "sqlite", shape),
            new DbCoreScopedQueryUnit<SqliteBenchSession>(database.CreateSession, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), "sqlite", shape),
            new DbCoreSqliteSessionAdoUnit(database, shape),
            new DbCoreQueryUnit<AutoBenchSession>("dbcore-query-auto", "sqlite", auto.OpenReadOnlySessionAsync, static (s, id, ct) => s.FindWorldAsync(id, ct), static (s, after, ct) => s.ListWorldsAsync(after, ct), shape),
            new DapperQueryUnit(open, "sqlite", shape),
            new DapperAotQueryUnit(open, "sqlite", shape),
            new EfCoreQueryUnit<SqliteWorldContext>(ef, "sqlite", shape),
        ];
    }
}
