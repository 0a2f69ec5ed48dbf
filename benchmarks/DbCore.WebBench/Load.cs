using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DbCore.Tests.Infrastructure;
using Npgsql;

namespace DbCore.WebBench;

/// <summary>wrk rounds (variants interleaved endpoint by endpoint, order alternating), per-round ratios, and statements per request.</summary>
internal static partial class Load
{
    public const int Connections = 32;
    private static readonly string[] s_variants = ["dbcore", "raw"];

    public sealed record Round(double DbCore, double Raw, long Errors)
    {
        public double Ratio => DbCore / Raw;
    }

    public sealed record EndpointResult(string Endpoint, List<Round> Rounds);

    public sealed record Statements(string Endpoint, string Variant, int Requests, long Total, string Breakdown);

    private static string[] Endpoints(int queries) => ["/db", $"/queries?queries={queries}", "/fortunes", $"/updates?queries={queries}"];

    public static async Task<List<EndpointResult>> RunRoundsAsync(string baseUrl, Options options, TextWriter log)
    {
        // --endpoints: the named ones only (by path, e.g. /updates), for a longer look at one of them.
        string[] endpoints = [.. Endpoints(options.Queries).Where(e => options.Only is null || options.Only.Contains(e.Split('?')[0]))];
        foreach (string endpoint in endpoints)
        {
            foreach (string variant in s_variants)
            {
                await WrkAsync(baseUrl + "/" + variant + endpoint, options.WarmUpSeconds);
            }
        }

        var results = endpoints.Select(e => new EndpointResult(e, [])).ToList();
        for (int round = 0; round < options.Rounds; round++)
        {
            for (int e = 0; e < endpoints.Length; e++)
            {
                bool dbcoreFirst = (round + e) % 2 == 0;
                var measured = new Dictionary<string, (double Rps, long Errors)>();
                foreach (string variant in dbcoreFirst ? s_variants : s_variants.Reverse())
                {
                    measured[variant] = await WrkAsync(baseUrl + "/" + variant + endpoints[e], options.Seconds);
                }

                var result = new Round(measured["dbcore"].Rps, measured["raw"].Rps, measured["dbcore"].Errors + measured["raw"].Errors);
                results[e].Rounds.Add(result);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round + 1} {endpoints[e],-22} dbcore {result.DbCore,8:0} raw {result.Raw,8:0} req/s  ratio {result.Ratio:0.000}{(result.Errors > 0 ? $"  ERRORS {result.Errors}" : "")}"));
            }
        }

        return results;
    }

    /// <summary>Whether <c>wrk</c> is on the PATH.</summary>
    public static bool IsWrkInstalled()
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, "wrk")));

    /// <summary>Runs wrk; returns requests/s and the count of non-2xx responses plus socket errors.</summary>
    private static async Task<(double Rps, long Errors)> WrkAsync(string url, int seconds)
    {
        var start = new ProcessStartInfo("wrk", ["-t2", "-c" + Connections.ToString(CultureInfo.InvariantCulture), "-d" + seconds.ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "10s", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start (apt-get install -y wrk)");
        string output = await process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Match rps = RequestsPerSecond().Match(output);
        if (process.ExitCode != 0 || !rps.Success)
        {
            throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {output} {error}");
        }

        long errors = 0;
        foreach (Match m in ErrorCount().Matches(output))
        {
            errors += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        return (double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), errors);
    }

    /// <summary>
    /// Statements the bench database receives per request, per endpoint and variant: pg_stat_statements reset, a fixed
    /// number of requests (8 in flight), then the sum of calls divided by the requests.
    /// </summary>
    public static async Task<List<Statements>> CountStatementsAsync(PostgresServer server, string connectionString, HttpClient http, int queries, TextWriter log)
    {
        const int requests = 400;
        await using var admin = new NpgsqlConnection(server.BuildConnectionString("postgres", pooling: false));
        await admin.OpenAsync();
        await ExecuteAsync(admin, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        var counts = new List<Statements>();
        foreach (string endpoint in Endpoints(queries))
        {
            foreach (string variant in s_variants)
            {
                string url = "/" + variant + endpoint;
                await SendAsync(http, url, 40);
                await ExecuteAsync(admin, "SELECT pg_stat_statements_reset()");
                await SendAsync(http, url, requests);
                var rows = new List<(string Query, long Calls)>();
                await using (var command = new NpgsqlCommand(
                    "SELECT query, calls FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) ORDER BY calls DESC, query", admin))
                {
                    command.Parameters.AddWithValue(database);
                    await using NpgsqlDataReader reader = await command.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                        rows.Add((reader.GetString(0), reader.GetInt64(1)));
                    }
                }

                long total = rows.Sum(r => r.Calls);
                string breakdown = string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"`{Shorten(r.Query)}` {(double)r.Calls / requests:0.##}")));
                counts.Add(new Statements(endpoint, variant, requests, total, breakdown));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"statements {url}: {(double)total / requests:0.00} per request ({breakdown})"));
            }
        }

        return counts;
    }

    public static string Format(List<EndpointResult> results, List<Statements> statements)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| endpoint | dbcore req/s per round | raw req/s per round | ratio per round | median ratio | middle half | min..max | >= 0.97 | errors |");
        text.AppendLine("|---|---|---|---|---:|---|---|---|---:|");
        foreach (EndpointResult result in results)
        {
            double[] ratios = [.. result.Rounds.Select(r => r.Ratio)];
            double median = Median(ratios);
            text.AppendLine(c, $"| `{result.Endpoint}` | {Join(result.Rounds.Select(r => r.DbCore), "0")} | {Join(result.Rounds.Select(r => r.Raw), "0")} | {Join(ratios, "0.000")} | **{median:0.000}** | {Quantile(ratios, 0.25):0.000}..{Quantile(ratios, 0.75):0.000} | {ratios.Min():0.000}..{ratios.Max():0.000} | {(median >= 0.97 ? "yes" : "**no**")} | {result.Rounds.Sum(r => r.Errors)} |");
        }

        text.AppendLine();
        text.AppendLine("Noise: the raw variant's own rounds, min..max relative to its median: " + string.Join("; ", results.Select(r =>
        {
            double[] raw = [.. r.Rounds.Select(x => x.Raw)];
            double m = Median(raw);
            return string.Create(c, $"`{r.Endpoint}` {raw.Min() / m:0.00}..{raw.Max() / m:0.00}");
        })));
        text.AppendLine();
        text.AppendLine("| endpoint | variant | statements per request | breakdown (calls per request) |");
        text.AppendLine("|---|---|---:|---|");
        foreach (Statements s in statements)
        {
            text.AppendLine(c, $"| `{s.Endpoint}` | {s.Variant} | {(double)s.Total / s.Requests:0.00} | {s.Breakdown} |");
        }

        text.AppendLine();
        return text.ToString();
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static async Task SendAsync(HttpClient http, string url, int count)
    {
        int next = 0;
        async Task WorkerAsync()
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using HttpResponseMessage response = await http.GetAsync(url);
                response.EnsureSuccessStatusCode();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => WorkerAsync()));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string Shorten(string query)
    {
        // One line (a table cell): Npgsql's type-loading queries span several.
        string line = string.Join(' ', query.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return (line.Length > 60 ? line[..57] + "..." : line).Replace("|", "\\|", StringComparison.Ordinal);
    }

    private static string Join(IEnumerable<double> values, string format) => string.Join(" ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The <paramref name="q"/> quantile, interpolated between the two nearest ranks.</summary>
    private static double Quantile(double[] values, double q)
    {
        double[] sorted = [.. values.Order()];
        double rank = q * (sorted.Length - 1);
        int low = (int)Math.Floor(rank);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + ((rank - low) * (sorted[high] - sorted[low]));
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(?:Non-2xx or 3xx responses|connect|read|write|timeout)[: ]\s*([0-9]+)")]
    private static partial Regex ErrorCount();
}
