extern alias generators;

using System.Globalization;
using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using GeneratorType = generators::DbCore.Generators.DatabaseSettingsGenerator;

namespace DbCore.Benchmarks.Suites;

/// <summary>
/// The cost of DbCore's generator on a project with 50 settings classes (one file each, a mix of providers and
/// profiles): a full run, and an incremental rerun after an unrelated edit (a new file elsewhere in the project).
/// </summary>
public class GeneratorBenchmarks
{
    public const int ClassCount = 50;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warmDriver = null!;

    [GlobalSetup]
    public void Setup()
    {
        _compilation = CreateCompilation();
        _edited = AddUnrelatedEdit(_compilation);
        _warmDriver = CreateDriver(track: false).RunGenerators(_compilation);
        VerifyCaching(_compilation, _edited);
    }

    [Benchmark(Baseline = true)]
    public GeneratorDriver FullRun() => CreateDriver(track: false).RunGenerators(_compilation);

    [Benchmark]
    public GeneratorDriver IncrementalRerun() => _warmDriver.RunGenerators(_edited);

    /// <summary>Checks that the rerun after the unrelated edit left every tracked step Cached or Unchanged; says so or what failed.</summary>
    public static string VerifyCaching(CSharpCompilation compilation, CSharpCompilation edited)
    {
        GeneratorDriver driver = CreateDriver(track: true).RunGenerators(compilation);
        GeneratorDriverRunResult first = driver.GetRunResult();
        int files = first.GeneratedTrees.Length;
        if (first.Diagnostics.Length > 0 || files < ClassCount)
        {
            throw new InvalidOperationException($"The generator produced {files} files and {first.Diagnostics.Length} diagnostics for {ClassCount} classes.");
        }

        // The generator's own named steps (as the test harness checks) and its output steps; Roslyn's internal
        // ForAttributeWithMetadataName steps legitimately re-run on any compilation change.
        GeneratorRunResult rerun = driver.RunGenerators(edited).GetRunResult().Results.Single();
        string[] named = ["Settings", "UniqueSettings"]; // DbCore.Generators.TrackingNames (internal)
        var reasons = rerun.TrackedSteps.Where(pair => named.Contains(pair.Key)).SelectMany(pair => pair.Value)
            .Concat(rerun.TrackedOutputSteps.Values.SelectMany(steps => steps))
            .SelectMany(step => step.Outputs).Select(o => o.Reason).ToArray();
        if (reasons.Length == 0 || reasons.Any(r => r is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)))
        {
            return "FAILED: after an unrelated edit the tracked steps were " + string.Join(", ", reasons.GroupBy(r => r).Select(g => $"{g.Key} x{g.Count()}"));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{files} generated files for {ClassCount} classes; after an unrelated edit all {reasons.Length} outputs of the Settings/UniqueSettings and output steps were Cached or Unchanged");
    }

    public static CSharpCompilation CreateCompilation()
    {
        var trees = new List<SyntaxTree>(ClassCount);
        for (int i = 0; i < ClassCount; i++)
        {
            trees.Add(CSharpSyntaxTree.ParseText(SettingsSource(i), s_parseOptions, path: $"Settings{i}.cs"));
        }

        return CSharpCompilation.Create("FiftySettings", trees, References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>What a project on DbCore compiles against: the .NET 10 reference assemblies, DbCore.Runtime and its providers.</summary>
    public static List<MetadataReference> References()
    {
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        foreach (Assembly assembly in new[]
        {
            typeof(DatabaseSettingsAttribute).Assembly,
            typeof(Npgsql.NpgsqlConnection).Assembly,
            typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly,
            typeof(Microsoft.Extensions.Configuration.IConfiguration).Assembly,
            typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
            typeof(Microsoft.Extensions.Logging.ILoggerFactory).Assembly,
        })
        {
            references.Add(MetadataReference.CreateFromFile(assembly.Location));
        }

        return references;
    }

    public static CSharpCompilation AddUnrelatedEdit(CSharpCompilation compilation)
        => compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Unrelated { internal static class Edit { public static int Value => 42; } }", s_parseOptions, path: "Unrelated.cs"));

    public static GeneratorDriver CreateDriver(bool track)
        => CSharpGeneratorDriver.Create(
            [new GeneratorType().AsSourceGenerator()],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    private static string SettingsSource(int i)
    {
        var source = new StringBuilder();
        source.AppendLine("using DbCore;");
        source.AppendLine(CultureInfo.InvariantCulture, $"namespace App.Module{i % 5};");
        switch (i % 3)
        {
            case 0:
                source.AppendLine("[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)]");
                source.AppendLine("[PoolProfile(\"Production\", Size = 10, MaxOverflow = 20)]");
                source.AppendLine("[PoolProfile(\"Development\", Size = 5, MaxOverflow = 10)]");
                source.AppendLine(CultureInfo.InvariantCulture, $"public partial class Store{i}Settings {{ [ConnectionString(EnvironmentVariable = \"STORE{i}_URL\")] public string ConnectionString {{ get; set; }} = \"Host=localhost;Database=store{i}\"; }}");
                break;
            case 1:
                source.AppendLine("[DatabaseSettings(Provider = DatabaseProvider.Sqlite)]");
                source.AppendLine(CultureInfo.InvariantCulture, $"public partial class Cache{i}Settings {{ [ConnectionString] public string ConnectionString {{ get; set; }} = \"Data Source=cache{i}.db\"; }}");
                break;
            default:
                source.AppendLine(CultureInfo.InvariantCulture, $"[DatabaseSettings(SectionName = \"Data{i}\")]");
                source.AppendLine(CultureInfo.InvariantCulture, $"public partial class Data{i}Options {{ [ConnectionString] public string ConnectionString {{ get; set; }} = \"postgresql://app@localhost/data{i}\"; public int? MaxRows {{ get; set; }} }}");
                break;
        }

        return source.ToString();
    }
}
