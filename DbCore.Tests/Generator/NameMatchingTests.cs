extern alias generators;

using QueryParser = generators::DbCore.Generators.Parsing.QueryParser;

namespace DbCore.Tests.Generator;

/// <summary>
/// The generator's column-to-member name rule (case-insensitive, underscores and trailing '!' ignored) compares ASCII names in
/// place; it must agree with the rule as written (normalize both, compare) for every pair, ASCII or not.
/// </summary>
public sealed class NameMatchingTests
{
    private static readonly string[] s_names =
    [
        "", "!", "!!", "_", "__", "id", "Id", "ID", "i_d", "_id_", "id!", "id!!", "id_!", "id!_", "!id", "i!d", "userId", "user_id",
        "USER_ID", "userid", "user_id!", "due_at", "DueAt", "dueat1", "due_at_1", "@", "`", "[", "{", "a1", "A1", "Ünïcode", "ünïcode",
        "ÜNÏCODE", "straße", "STRASSE", "ǅ", "ǆ", "x_y_z", "XYZ", "xy", "title", "Title!", "tit_le!",
    ];

    private static string Normalize(string name) => name.TrimEnd('!').Replace("_", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    [Fact]
    public void The_in_place_comparison_agrees_with_the_rule_for_every_pair()
    {
        foreach (string a in s_names)
        {
            foreach (string b in s_names)
            {
                Assert.True(QueryParser.Matches(a, b) == (Normalize(a) == Normalize(b)), $"'{a}' vs '{b}'");
            }
        }
    }
}
