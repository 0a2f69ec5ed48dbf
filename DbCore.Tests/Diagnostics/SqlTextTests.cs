extern alias generators;

using generators::DbCore.Generators.Parsing;

namespace DbCore.Tests.Diagnostics;

/// <summary>The generator's SQL reader on its own: placeholders, the select list and where they stand.</summary>
public sealed class SqlTextTests
{
    [Theory]
    [InlineData("SELECT \"")]
    [InlineData("SELECT id FROM \"todos")]
    [InlineData("SELECT 'abc")]
    [InlineData("SELECT E'abc\\")]
    [InlineData("SELECT $$abc")]
    [InlineData("SELECT /* abc")]
    [InlineData("SELECT @")]
    [InlineData("\"")]
    public void Unterminated_text_does_not_throw(string sql)
    {
        SqlText text = SqlText.Parse(sql);
        Assert.Empty(text.Placeholders);
        _ = text.ResultColumns();
        _ = text.Star();
    }

    [Fact]
    public void Placeholders_outside_code_are_not_placeholders()
    {
        const string sql = "SELECT '@a', E'\\'@b', $$@c$$, $t$@d$t$, \"@e\" /* @f /* @g */ @h */ -- @i\n"
            + "FROM t WHERE x <@y AND x @>z AND d @@q AND p ^@r AND v = @v::int AND w=@w";
        SqlText text = SqlText.Parse(sql);
        Assert.Equal(new[] { "v", "w" }, text.Placeholders.Select(p => p.Name));
        Assert.Equal("@v", sql.Substring(text.Placeholders[0].Start, text.Placeholders[0].Length));
        Assert.Equal("@w", sql.Substring(text.Placeholders[1].Start, text.Placeholders[1].Length));
    }

    [Fact]
    public void A_placeholder_after_an_operator_that_does_not_end_in_at_is_one()
    {
        // '%'||@q||'%' is the usual LIKE pattern: Npgsql's rewrite and SQLite both bind q there (review of 54fcc0f, F1: the
        // positional text sent '||@q' to PostgreSQL as written, "column q does not exist").
        const string sql = "SELECT 1 WHERE title LIKE '%'||@q||'%' AND a&@b = 0 AND c|@d = 0 AND e#@f = 0 AND g~@h AND i!@j AND k <@l";
        Assert.Equal(new[] { "q", "b", "d", "f", "h", "j" }, SqlText.Parse(sql).Placeholders.Select(p => p.Name));
    }

    [Fact]
    public void Result_columns_name_aliases_and_references_with_their_spans()
    {
        const string sql = "SELECT t.id, title AS \"Name\", count(*) n, (a + b) AS total FROM t";
        SqlColumn[] columns = SqlText.Parse(sql).ResultColumns()!.ToArray();
        Assert.Equal(new[] { "id", "Name", "n", "total" }, columns.Select(c => c.Name));
        Assert.Equal(new[] { "id", "\"Name\"", "n", "total" }, columns.Select(c => sql.Substring(c.Span.Start, c.Span.Length)));
    }

    [Theory]
    [InlineData("SELECT id, title AS t FROM x", "id, title AS t")]
    [InlineData("SELECT DISTINCT id FROM x", "id")]
    [InlineData("UPDATE x SET a = 1 RETURNING id, count(*) n", "id, count(*) n")]
    [InlineData("WITH y AS (SELECT 1) SELECT id FROM y", null)]
    public void Result_list_span_covers_the_items(string sql, string? expected)
    {
        SqlSpan? list = SqlText.Parse(sql).ResultListSpan();
        Assert.Equal(expected, list is { } s ? sql.Substring(s.Start, s.Length) : null);
    }

    [Theory]
    [InlineData("SELECT lower(title) FROM t")]
    [InlineData("SELECT id::text FROM t")]
    [InlineData("SELECT a b FROM t")]
    [InlineData("WITH x AS (SELECT 1) SELECT id FROM x")]
    [InlineData("SELECT DISTINCT ON (id) id FROM t")]
    [InlineData("SELECT id FROM t; SELECT id FROM u")]
    [InlineData("SELECT NULL FROM t")]
    public void Result_columns_are_unknown_where_the_text_does_not_tell(string sql)
        => Assert.Null(SqlText.Parse(sql).ResultColumns());

    [Fact]
    public void A_quoted_identifier_that_spells_a_keyword_is_a_column()
        => Assert.Equal("NULL", Assert.Single(SqlText.Parse("SELECT \"NULL\" FROM t").ResultColumns()!).Name);

    [Theory]
    [InlineData("SELECT * FROM t", "*")]
    [InlineData("SELECT id, t.* FROM t", "t.*")]
    [InlineData("DELETE FROM t RETURNING *", "*")]
    [InlineData("SELECT count(*) FROM t", null)]
    [InlineData("SELECT a * b AS c FROM t", null)]
    public void Star_is_the_star_item(string sql, string? expected)
    {
        SqlSpan? star = SqlText.Parse(sql).Star();
        Assert.Equal(expected, star is { } s ? sql.Substring(s.Start, s.Length) : null);
    }
}
