namespace DbCore.Tests.Postgres;

/// <summary>What the read path treats as a plain read (runs before the transaction begins) and what begins it.</summary>
public sealed class SqlClassifierTests
{
    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("  select id, title FROM todos WHERE id = @id")]
    [InlineData("-- the list\nSELECT * FROM todos ORDER BY id")]
    [InlineData("/* nested /* comment */ */ SELECT 1;")]
    [InlineData("WITH t AS (SELECT 1 AS x) SELECT x FROM t")]
    [InlineData("VALUES (1), (2)")]
    [InlineData("TABLE todos")]
    [InlineData("SHOW server_version")]
    [InlineData("SELECT 'INSERT INTO x' AS text, \"update\" FROM t")]
    [InlineData("SELECT $$ DELETE $$, $tag$ UPDATE $tag$")]
    [InlineData("SELECT updated_at, inserted_by FROM t WHERE id = $1")]
    public void Plain_reads_run_before_the_transaction(string sql) => Assert.True(SqlClassifier.IsRead(sql), sql);

    [Theory]
    [InlineData("INSERT INTO todos (title) VALUES (@t)")]
    [InlineData("UPDATE todos SET done = true")]
    [InlineData("DELETE FROM todos")]
    [InlineData("WITH d AS (DELETE FROM todos RETURNING id) SELECT count(*) FROM d")]
    [InlineData("SELECT * FROM todos FOR UPDATE")]
    [InlineData("SELECT * FROM todos FOR SHARE SKIP LOCKED")]
    [InlineData("SELECT * INTO copy FROM todos")]
    [InlineData("SELECT nextval('todos_id_seq')")]
    [InlineData("SELECT 1; DELETE FROM todos")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")]
    [InlineData("CALL archive()")]
    [InlineData("DO $$ BEGIN END $$")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM todos")]
    [InlineData("(SELECT 1)")]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT E'\\'' ")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("WITH a AS (SELECT 1) --\r, d AS (DELETE FROM acc RETURNING 1) SELECT * FROM d")] // a line comment ends at \r
    [InlineData("WITH a AS (SELECT $€$'$€$ AS v), d AS (DELETE FROM acc RETURNING 1) SELECT v FROM a, d -- '")] // non-ASCII dollar tag
    [InlineData("SELECT \"nextval\"('s')")]
    [InlineData("SELECT set_config('app.tenant', '7', true)")]
    [InlineData("SELECT pg_advisory_xact_lock(42)")]
    [InlineData("SELECT pg_notify('jobs', 'x')")]
    [InlineData("SELECT lo_unlink(16409)")]
    public void Anything_else_begins_the_transaction_first(string sql) => Assert.False(SqlClassifier.IsRead(sql), sql);

    /// <summary>
    /// Reads are remembered by string identity (a query's SQL is usually one constant): the second answer for the same
    /// instance comes from that memory and must equal the first; many reads and writes that share memory slots never
    /// turn a write into a read.
    /// </summary>
    [Fact]
    public void Remembered_reads_give_the_same_answer_and_never_make_a_write_a_read()
    {
        var reads = Enumerable.Range(0, 2000).Select(i => $"SELECT {i} FROM t").ToArray();
        var writes = Enumerable.Range(0, 2000).Select(i => $"DELETE FROM t WHERE id = {i}").ToArray();
        for (int pass = 0; pass < 3; pass++)
        {
            Assert.All(reads, sql => Assert.True(SqlClassifier.IsRead(sql), sql));
            Assert.All(writes, sql => Assert.False(SqlClassifier.IsRead(sql), sql));
        }

        Assert.True(SqlClassifier.IsRead(new string("SELECT 1 FROM t".AsSpan()))); // another instance, same text: classified again
        Assert.False(SqlClassifier.IsRead(null));
        Assert.False(SqlClassifier.IsRead(""));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("  ;; -- nothing\n/* at /* all */ */ ;", 0)]
    [InlineData("UPDATE t SET a = 1", 1)]
    [InlineData("UPDATE t SET a = 1;", 1)]
    [InlineData("UPDATE t SET a = 1; -- done", 1)]
    [InlineData("INSERT INTO t VALUES ('a;b', \"c;d\", $$e;f$$) /* ; */", 1)]
    [InlineData("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", 2)]
    [InlineData(";UPDATE t SET a = 1;;SELECT 1", 2)]
    [InlineData("INSERT INTO t VALUES ('unterminated", 2)]
    public void Statements_are_counted_outside_literals_and_comments(string sql, int expected)
        => Assert.Equal(expected, SqlClassifier.CountStatements(sql));
}
