using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Npgsql;

namespace DbCore.WebBench;

/// <summary>A World row; serialized as <c>{"id":..,"randomNumber":..}</c>.</summary>
public readonly record struct World(int Id, int RandomNumber);

/// <summary>A Fortune row.</summary>
public readonly record struct Fortune(int Id, string Message);

/// <summary>Source-generated JSON for both variants (camelCase, as the TechEmpower spec asks).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(World))]
[JsonSerializable(typeof(World[]))]
internal sealed partial class AppJson : JsonSerializerContext;

/// <summary>
/// Everything the two variants share: the SQL text, parameter binding, row reading and rendering. The variants differ
/// only in where their <see cref="DbCommand"/> comes from (a DbCore session or a raw Npgsql connection).
/// </summary>
internal static class Sql
{
    public const string SelectWorld = "SELECT id, randomnumber FROM world WHERE id = $1";
    public const string SelectFortunes = "SELECT id, message FROM fortune";
    public const string AdditionalFortune = "Additional fortune added at request time.";
    public const int MaxQueries = 500;

    private static readonly string?[] s_updates = new string?[MaxQueries + 1];

    /// <summary>
    /// One statement for N rows, as TechEmpower's aspnetcore entries write it:
    /// <c>UPDATE world SET randomnumber = v.r FROM (VALUES ($1, $2), ...) AS v(id, r) WHERE world.id = v.id</c>.
    /// </summary>
    public static string UpdateWorlds(int count)
    {
        string? sql = s_updates[count];
        if (sql is null)
        {
            var text = new StringBuilder("UPDATE world SET randomnumber = v.r FROM (VALUES ");
            for (int i = 0; i < count; i++)
            {
                text.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(${(2 * i) + 1}, ${(2 * i) + 2})");
            }

            sql = text.Append(") AS v(id, r) WHERE world.id = v.id").ToString();
            s_updates[count] = sql;
        }

        return sql;
    }

    public static int RandomId() => Random.Shared.Next(1, 10001);

    /// <summary>The <c>queries</c> parameter per the spec: not a number -> 1, then clamped to 1..500.</summary>
    public static int ParseQueries(string? value)
        => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? Math.Clamp(n, 1, MaxQueries) : 1;

    public static NpgsqlParameter<int> AddId(DbCommand command)
    {
        var parameter = new NpgsqlParameter<int> { TypedValue = RandomId() };
        command.Parameters.Add(parameter);
        return parameter;
    }

    public static async Task<World> ReadWorldAsync(DbCommand command)
    {
        await using DbDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        await reader.ReadAsync().ConfigureAwait(false);
        return new World(reader.GetInt32(0), reader.GetInt32(1));
    }

    /// <summary>N single-row reads on one command, a fresh random id each time.</summary>
    public static async Task<World[]> ReadWorldsAsync(DbCommand command, int count)
    {
        NpgsqlParameter<int> id = AddId(command);
        var worlds = new World[count];
        for (int i = 0; i < count; i++)
        {
            id.TypedValue = RandomId();
            worlds[i] = await ReadWorldAsync(command).ConfigureAwait(false);
        }

        return worlds;
    }

    /// <summary>Gives every row a fresh random number and binds the update's parameters (ids ascending: one lock order for all requests).</summary>
    public static void BindUpdate(DbCommand update, World[] worlds)
    {
        for (int i = 0; i < worlds.Length; i++)
        {
            worlds[i] = worlds[i] with { RandomNumber = RandomId() };
        }

        World[] ordered = (World[])worlds.Clone();
        Array.Sort(ordered, static (a, b) => a.Id.CompareTo(b.Id));
        foreach (World world in ordered)
        {
            update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = world.Id });
            update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = world.RandomNumber });
        }
    }

    public static async Task<List<Fortune>> ReadFortunesAsync(DbCommand command)
    {
        var fortunes = new List<Fortune>(16);
        await using (DbDataReader reader = await command.ExecuteReaderAsync().ConfigureAwait(false))
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                fortunes.Add(new Fortune(reader.GetInt32(0), reader.GetString(1)));
            }
        }

        return fortunes;
    }

    public static IResult Json(World world) => Results.Json(world, AppJson.Default.World);

    public static IResult Json(World[] worlds) => Results.Json(worlds, AppJson.Default.WorldArray);

    /// <summary>The spec's page: the rows plus the request-time fortune, sorted by message (ordinal), HTML-escaped.</summary>
    public static IResult FortunesPage(List<Fortune> fortunes)
    {
        fortunes.Add(new Fortune(0, AdditionalFortune));
        fortunes.Sort(static (a, b) => string.CompareOrdinal(a.Message, b.Message));
        var html = new StringBuilder(1600);
        html.Append("<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>");
        foreach (Fortune fortune in fortunes)
        {
            html.Append("<tr><td>").Append(fortune.Id).Append("</td><td>");
            AppendEscaped(html, fortune.Message);
            html.Append("</td></tr>");
        }

        html.Append("</table></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static void AppendEscaped(StringBuilder html, string text)
    {
        foreach (char ch in text)
        {
            _ = ch switch
            {
                '&' => html.Append("&amp;"),
                '<' => html.Append("&lt;"),
                '>' => html.Append("&gt;"),
                '"' => html.Append("&quot;"),
                '\'' => html.Append("&#39;"),
                _ => html.Append(ch),
            };
        }
    }

    /// <summary>
    /// Raw Npgsql on exactly the connection string DbCore's data source runs with (its keywords, pool sizes and timeouts
    /// included; Npgsql hides the password there, so it is taken from the string both were given).
    /// </summary>
    public static NpgsqlDataSource CreateRawDataSource(string connectionString, WorldDatabase db)
    {
        var keywords = new NpgsqlConnectionStringBuilder(db.DataSource.ConnectionString)
        {
            Password = new NpgsqlConnectionStringBuilder(connectionString).Password,
        };
        return NpgsqlDataSource.Create(keywords);
    }

    /// <summary>The spec's tables: World (10000 rows, random numbers 1..10000) and Fortune (the spec's 12 rows).</summary>
    public static async Task CreateSchemaAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        const string schema = """
            CREATE TABLE world (id integer NOT NULL, randomnumber integer NOT NULL DEFAULT 0, PRIMARY KEY (id));
            INSERT INTO world (id, randomnumber) SELECT x, least(floor(random() * 10000 + 1), 10000) FROM generate_series(1, 10000) AS x;
            CREATE TABLE fortune (id integer NOT NULL, message varchar(2048) NOT NULL, PRIMARY KEY (id));
            INSERT INTO fortune (id, message) VALUES
              (1, 'fortune: No such file or directory'),
              (2, 'A computer scientist is someone who fixes things that aren''t broken.'),
              (3, 'After enough decimal points, nobody gives a damn.'),
              (4, 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1'),
              (5, 'A computer program does what you tell it to do, not what you want it to do.'),
              (6, 'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen'),
              (7, 'Any program that runs right is obsolete.'),
              (8, 'A list is only as strong as its weakest link. — Donald Knuth'),
              (9, 'Feature: A bug with seniority.'),
              (10, 'Computers make very fast, very accurate mistakes.'),
              (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
              (12, 'フレームワークのベンチマーク');
            ANALYZE world;
            ANALYZE fortune;
            """;
        await using var command = new NpgsqlCommand(schema, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }
}
