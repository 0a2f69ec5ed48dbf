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

    [Theory]
    [InlineData("postgresql+asyncpg://app?Kq9vXw3Zq9&vXw3Zt7Lm@[::1]:5432/shop?options=-c%20search_path%3Dapp")] // CsCheck seed dHYb8ZJqVl81
    [InlineData("postgresql://app?Kq9vXw3Zq9@db.internal/shop")]
    public void A_question_mark_between_user_and_password_never_puts_the_password_in_the_error(string url)
    {
        // The ':' between user and password was mistyped as '?', so no user info is found and the password's text
        // reads as the URL's query: its first "parameter" is the password.
        ParsedConnectionString parsed = ConnectionStringParser.Parse(url);
        Assert.NotNull(parsed.Error);
        Assert.DoesNotContain("Kq9vXw", parsed.Error);
        Assert.Contains("%3F", parsed.Error);
    }

    [Fact]
    public void An_unknown_keyword_after_an_empty_password_segment_is_never_echoed_or_logged()
    {
        // CsCheck seed 0wdZ34fAMQR1: "Password=;Kq9vXw=..." (a ';' and '=' inside an unquoted password). The tokenizer
        // drops the empty Password, so "the keyword before" was Username and the fragment was quoted.
        const string text = "Host=127.0.0.1;Username=app;Password=;Kq9vXw=Kq9vXw3Zt7Lm;Database=shop";
        ParsedConnectionString parsed = ConnectionStringParser.Parse(text);
        Assert.NotNull(parsed.Error);
        Assert.DoesNotContain("Kq9vXw", parsed.Error);
        Assert.Contains("right after the password", parsed.Error);
        Assert.DoesNotContain("Kq9vXw", ConnectionStringParser.Redact(text));
    }

    /// <summary>
    /// Free text that quotes a connection string (a provider's or the work's exception message, a health-check reason):
    /// an unquoted value runs to the next ';' and may hold spaces, and a quoted one may hold doubled quotes. The masking
    /// stopped at the first space and at the first doubled quote, leaving the rest of the password visible (found by
    /// review helper-30; these cases failed before).
    /// </summary>
    [Theory]
    [InlineData("could not connect with Host=db;Password=Kq9v Xw3Z t7Lm;Database=shop", "Kq9v", "Xw3Z", "t7Lm")]
    [InlineData("could not connect with Host=db;Password=\"Kq9v\"\"Xw3Z;t7Lm\";Database=shop", "Kq9v", "Xw3Z", "t7Lm")]
    [InlineData("could not connect with Host=db;Pwd='Kq9v''Xw3Z t7Lm';Database=shop", "Kq9v", "Xw3Z", "t7Lm")]
    [InlineData("Password = Kq9v Xw3Z\nnext line t7Lm-is-not-a-secret", "Kq9v", "Xw3Z", null)]
    [InlineData("could not connect with Password=\"Kq9v\"\"Xw3Z", "Kq9v", "Xw3Z", null)] // a quoted value cut short (review helper-31)
    [InlineData("could not connect with Password=\"Kq9v\"Xw3Z t7Lm;Database=shop", "Kq9v", "Xw3Z", "t7Lm")] // text glued after the closing quote
    public void A_password_with_spaces_or_doubled_quotes_is_masked_whole_in_free_text(string text, string first, string second, string? third)
    {
        string redacted = DbCore.Internal.Redaction.RedactText(text);
        Assert.DoesNotContain(first, redacted);
        Assert.DoesNotContain(second, redacted);
        if (third is not null)
        {
            Assert.DoesNotContain(third, redacted);
        }

        Assert.Contains("***", redacted);
        if (text.Contains("Database=shop", StringComparison.Ordinal) || text.Contains("next line", StringComparison.Ordinal))
        {
            Assert.Contains(text.Contains("Database=shop", StringComparison.Ordinal) ? "Database=shop" : "next line", redacted);
        }
    }
}
