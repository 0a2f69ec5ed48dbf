using DbCore.ConnectionStrings;

namespace DbCore.Tests.ConnectionStrings;

public sealed class RedactionEdgeTests
{
    [Fact]
    public void Unknown_keyword_right_after_a_password_is_never_echoed_even_with_a_suggestion()
    {
        // An unquoted password containing ';' makes its tail look like a keyword ("Databse" is close to "Database").
        ParsedConnectionString parsed = ConnectionStringParser.Parse("Host=h;Password=Xy;Databse=9");
        Assert.NotNull(parsed.Error);
        Assert.DoesNotContain("Databse", parsed.Error);
        Assert.DoesNotContain("Xy", parsed.Error);
        Assert.Contains("Database", parsed.Error);
        Assert.Contains("double quotes", parsed.Error);
    }
}
