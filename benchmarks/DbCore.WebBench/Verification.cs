using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace DbCore.WebBench;

/// <summary>Checks both variants once before any load: status, content type, JSON shape, the queries clamp, fortunes sorted and escaped, updates persisted.</summary>
internal static partial class Verification
{
    public static async Task RunAsync(HttpClient http, string connectionString, TextWriter log)
    {
        string? fortunesOfOther = null;
        foreach (string variant in new[] { "dbcore", "raw" })
        {
            JsonElement one = await GetJsonAsync(http, $"/{variant}/db");
            CheckWorld(one, variant + "/db");

            foreach ((string query, int expected) in new[] { ("", 1), ("?queries=0", 1), ("?queries=foo", 1), ("?queries=1", 1), ("?queries=20", 20), ("?queries=501", 500) })
            {
                foreach (string endpoint in new[] { "queries", "updates" })
                {
                    string url = $"/{variant}/{endpoint}{query}";
                    JsonElement array = await GetJsonAsync(http, url);
                    Check(array.ValueKind == JsonValueKind.Array && array.GetArrayLength() == expected, $"{url}: expected a JSON array of {expected}");
                    foreach (JsonElement world in array.EnumerateArray())
                    {
                        CheckWorld(world, url);
                    }

                    if (endpoint == "updates")
                    {
                        await CheckPersistedAsync(connectionString, array, url);
                    }
                }
            }

            using HttpResponseMessage response = await http.GetAsync($"/{variant}/fortunes");
            string html = await response.Content.ReadAsStringAsync();
            Check(response.StatusCode == HttpStatusCode.OK, $"{variant}/fortunes: status {(int)response.StatusCode}");
            Check(response.Content.Headers.ContentType?.ToString() == "text/html; charset=utf-8", $"{variant}/fortunes: content type {response.Content.Headers.ContentType}");
            CheckFortunes(html, variant);
            Check(fortunesOfOther is null || fortunesOfOther == html, "the two variants render different fortunes pages");
            fortunesOfOther = html;
        }

        log.WriteLine("verification passed: /db, /queries (clamp 1..500), /fortunes (13 rows, sorted, escaped), /updates (persisted) on both variants");
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string url)
    {
        using HttpResponseMessage response = await http.GetAsync(url);
        string body = await response.Content.ReadAsStringAsync();
        Check(response.StatusCode == HttpStatusCode.OK, $"{url}: status {(int)response.StatusCode}: {body}");
        Check(response.Content.Headers.ContentType?.MediaType == "application/json", $"{url}: content type {response.Content.Headers.ContentType}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static void CheckWorld(JsonElement world, string url)
    {
        Check(world.ValueKind == JsonValueKind.Object && world.EnumerateObject().Count() == 2, $"{url}: not a two-member object: {world}");
        Check(world.TryGetProperty("id", out JsonElement id) && id.GetInt32() is >= 1 and <= 10000, $"{url}: id: {world}");
        Check(world.TryGetProperty("randomNumber", out JsonElement n) && n.GetInt32() is >= 1 and <= 10000, $"{url}: randomNumber: {world}");
    }

    private static async Task CheckPersistedAsync(string connectionString, JsonElement array, string url)
    {
        // A row that appears twice in one request may keep either of its two new numbers (one UPDATE, as in TechEmpower).
        var expected = new Dictionary<int, HashSet<int>>();
        foreach (JsonElement world in array.EnumerateArray())
        {
            int id = world.GetProperty("id").GetInt32();
            if (!expected.TryGetValue(id, out HashSet<int>? numbers))
            {
                expected[id] = numbers = [];
            }

            numbers.Add(world.GetProperty("randomNumber").GetInt32());
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, randomnumber FROM world WHERE id = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. expected.Keys] });
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
        int rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            Check(expected[reader.GetInt32(0)].Contains(reader.GetInt32(1)), $"{url}: row {reader.GetInt32(0)} holds {reader.GetInt32(1)}, not the number the response returned");
        }

        Check(rows == expected.Count, $"{url}: {expected.Count - rows} rows missing");
    }

    private static void CheckFortunes(string html, string variant)
    {
        const string head = "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>";
        Check(html.StartsWith(head, StringComparison.Ordinal) && html.EndsWith("</table></body></html>", StringComparison.Ordinal), $"{variant}/fortunes: not the spec's page");
        List<(int Id, string Message)> rows = [.. Row().Matches(html).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), WebUtility.HtmlDecode(m.Groups[2].Value)))];
        Check(rows.Count == 13, $"{variant}/fortunes: {rows.Count} rows, expected 13");
        Check(rows.Zip(rows.Skip(1)).All(p => string.CompareOrdinal(p.First.Message, p.Second.Message) <= 0), $"{variant}/fortunes: not sorted by message");
        Check(rows.Any(r => r.Id == 0 && r.Message == Sql.AdditionalFortune), $"{variant}/fortunes: the request-time fortune is missing");
        Check(html.Contains("<td>&lt;script&gt;alert(&quot;This should not be displayed in a browser alert box.&quot;);&lt;/script&gt;</td>", StringComparison.Ordinal), $"{variant}/fortunes: fortune 11 is not escaped");
        Check(html.Contains("<td>フレームワークのベンチマーク</td>", StringComparison.Ordinal), $"{variant}/fortunes: the UTF-8 fortune is garbled");
        Check(!html.Contains("<script>", StringComparison.Ordinal), $"{variant}/fortunes: unescaped markup");
    }

    private static void Check(bool condition, string failure)
    {
        if (!condition)
        {
            throw new InvalidOperationException("verification failed: " + failure);
        }
    }

    [GeneratedRegex("<tr><td>([0-9]+)</td><td>(.*?)</td></tr>")]
    private static partial Regex Row();
}
