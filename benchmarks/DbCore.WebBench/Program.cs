using System.Diagnostics;
using System.Globalization;
using System.Text;
using DbCore.Tests.Infrastructure;
using DbCore.WebBench;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Npgsql;

// The TechEmpower database tests against DbCore's scoped session and raw Npgsql, in one Kestrel app, loaded with wrk.
// dotnet run -c Release --project benchmarks/DbCore.WebBench -- [--seconds 5] [--rounds 5] [--multiplexing] [--dbcore typed|commands] [--endpoints /db,/updates] [--out file.md]
Options options = Options.Parse(args);
CultureInfo c = CultureInfo.InvariantCulture;
TextWriter log = Console.Out;

// Checked before a server is started: the load generator is a Debian package, not a NuGet one.
if (!Load.IsWrkInstalled())
{
    log.WriteLine("wrk is not installed: apt-get install -y wrk");
    return 2;
}

var server = new PostgresServer();
await server.InitializeAsync();
if (!server.IsAvailable)
{
    log.WriteLine("PostgreSQL is not available: " + server.UnavailableReason);
    return 2;
}

try
{
    string connectionString = await server.CreateDatabaseAsync("hello_world");
    await Sql.CreateSchemaAsync(connectionString);
    if (options.Multiplexing)
    {
        connectionString += ";Multiplexing=true";
    }

    WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));
    builder.Services.AddWorldDatabase(builder.Configuration, settings => settings.ConnectionString = connectionString);

    await using WebApplication app = builder.Build();
    WorldDatabase db = app.Services.GetRequiredService<WorldDatabase>();
    await using NpgsqlDataSource raw = Sql.CreateRawDataSource(connectionString, db);
    string dbcoreKeywords = db.DataSource.ConnectionString;
    if (options.Commands)
    {
        Endpoints.MapDbCore(app);
    }
    else
    {
        Endpoints.MapDbCoreTyped(app);
    }
    Endpoints.MapRaw(app, raw);
    await app.StartAsync();
    string baseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    log.WriteLine($"Kestrel on {baseUrl}; both variants: {dbcoreKeywords} (password not shown)");

    using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
    await Verification.RunAsync(http, connectionString, log);

    var report = new StringBuilder();
    report.AppendLine(c, $"#### Web benchmark run, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC ({(options.Multiplexing ? "Multiplexing=true" : "default connection string")})");
    report.AppendLine();
    report.AppendLine(c, $"- Machine: {Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; load average before: {Load.LoadAverage()}");
    report.AppendLine(c, $"- DbCore variant: {(options.Commands ? "commands from session.CreateCommand, read as raw reads them (--dbcore commands)" : "the session's typed queries ([Query] methods)")}");
    report.AppendLine(c, $"- Connection string of both variants (Npgsql's form, password hidden): `{dbcoreKeywords}`");
    report.AppendLine(c, $"- wrk {Load.Connections} connections, 2 threads; {options.Rounds} rounds x {options.Seconds} s per endpoint per variant, order alternating per round; warm-up {options.WarmUpSeconds} s each");
    report.AppendLine(c, $"- `/queries` and `/updates` at queries={options.Queries}; verification passed on both variants before loading");
    report.AppendLine();

    var statements = await Load.CountStatementsAsync(server, connectionString, http, options.Queries, log);
    var stopwatch = Stopwatch.StartNew();
    List<Load.EndpointResult> results = await Load.RunRoundsAsync(baseUrl, options, log);
    report.Append(Load.Format(results, statements));
    report.AppendLine(c, $"Load phase {stopwatch.Elapsed.TotalSeconds:0} s; load average after: {Load.LoadAverage()}").AppendLine();

    log.WriteLine();
    log.WriteLine(report.ToString());
    if (options.Out is { } path)
    {
        await File.WriteAllTextAsync(path, report.ToString());
        log.WriteLine("written to " + path);
    }

    await app.StopAsync();
    return 0;
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await server.DisposeAsync();
}

/// <summary>Command line of the web benchmark.</summary>
internal sealed record Options(int Seconds, int Rounds, bool Multiplexing, string? Out, int Queries, int WarmUpSeconds, string[]? Only = null, bool Commands = false)
{
    public static Options Parse(string[] args)
    {
        int seconds = 5, rounds = 5, queries = 20, warmUp = 3;
        bool multiplexing = false, commands = false;
        string? output = null;
        string[]? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
            switch (args[i])
            {
                case "--seconds": seconds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--queries": queries = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--warmup": warmUp = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--multiplexing": multiplexing = true; break;
                case "--out": output = Next(); break;
                case "--dbcore":
                    commands = Next() switch
                    {
                        "typed" => false,
                        "commands" => true,
                        string other => throw new ArgumentException("--dbcore takes typed or commands, not " + other),
                    };
                    break;
                case "--endpoints": only = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                default: throw new ArgumentException("unknown option " + args[i] + "; use [--seconds 5] [--rounds 5] [--queries 20] [--warmup 3] [--multiplexing] [--dbcore typed|commands] [--endpoints /db,/updates] [--out file.md]");
            }
        }

        return new Options(seconds, rounds, multiplexing, output, queries, warmUp, only, commands);
    }
}
