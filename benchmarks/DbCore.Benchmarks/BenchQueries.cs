using DbCore;
using DbCore.Benchmarks.Infrastructure;

namespace DbCore.Benchmarks;

/// <summary>
/// The query benchmark's typed queries (issue 13), implemented by the generator: PostgreSQL-pinned, so <c>@id</c> becomes
/// <c>$1</c> and the parameter an <c>NpgsqlParameter&lt;long&gt;</c>. The SQL is the same text Dapper gets
/// (<see cref="QuerySql"/>).
/// </summary>
public partial class PgBenchSession
{
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial Task<World?> FindWorldAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20")]
    public partial Task<List<World>> ListWorldsAsync(long after, CancellationToken cancellationToken = default);

    // The ValueTask forms (pooled state machines): the same queries for callers that care about the allocation.
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial ValueTask<World?> FindWorldValueAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20")]
    public partial ValueTask<List<World>> ListWorldsValueAsync(long after, CancellationToken cancellationToken = default);
}

/// <summary>The same typed queries on the SQLite-pinned settings class.</summary>
public partial class SqliteBenchSession
{
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial Task<World?> FindWorldAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20")]
    public partial Task<List<World>> ListWorldsAsync(long after, CancellationToken cancellationToken = default);

    // The ValueTask forms (pooled state machines): the same queries for callers that care about the allocation.
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial ValueTask<World?> FindWorldValueAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20")]
    public partial ValueTask<List<World>> ListWorldsValueAsync(long after, CancellationToken cancellationToken = default);
}

/// <summary>The same typed queries with the provider chosen at run time (<see cref="AutoBenchSettings"/>).</summary>
public partial class AutoBenchSession
{
    [Query("SELECT id, randomnumber FROM world WHERE id = @id")]
    public partial Task<World?> FindWorldAsync(long id, CancellationToken cancellationToken = default);

    [Query("SELECT id, randomnumber FROM world WHERE id > @after ORDER BY id LIMIT 20")]
    public partial Task<List<World>> ListWorldsAsync(long after, CancellationToken cancellationToken = default);
}
