namespace DbCore.Benchmarks.Infrastructure;

/// <summary>
/// The statements of the units. Writes update one of 64 rows, round robin, so 32 units in flight rarely wait for each
/// other's row lock; the 64 texts are built once, so no side formats a string per unit.
/// </summary>
internal static class BenchSql
{
    public const int Rows = 64;

    public const string CreateTable = "CREATE TABLE IF NOT EXISTS bench_counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)";

    public const string Read = "SELECT 1";

    private static readonly string[] s_updates = Enumerable.Range(0, Rows).Select(i => "UPDATE bench_counter SET n = n + 1 WHERE id = " + i).ToArray();

    private static int s_next;

    /// <summary>The next write statement (the same sequence for every contender).</summary>
    public static string NextUpdate() => s_updates[(Interlocked.Increment(ref s_next) & int.MaxValue) % Rows];

    /// <summary>SQL that creates and fills the table (both providers).</summary>
    public static string Seed() => "DELETE FROM bench_counter; INSERT INTO bench_counter (id, n) VALUES " + string.Join(", ", Enumerable.Range(0, Rows).Select(i => "(" + i + ", 0)"));
}
