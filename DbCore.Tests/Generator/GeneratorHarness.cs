extern alias generators;

using System.Collections.Immutable;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using GeneratorType = generators::DbCore.Generators.DatabaseSettingsGenerator;
using TrackingNames = generators::DbCore.Generators.TrackingNames;

namespace DbCore.Tests.Generator;

/// <summary>
/// A small in-process CSharpGeneratorDriver harness over Basic.Reference.Assemblies.Net100 plus DbCore's dependencies.
/// </summary>
internal static partial class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(() =>
    {
        var references = new List<MetadataReference>(Basic.Reference.Assemblies.Net100.References.All);
        foreach (Assembly assembly in new[]
        {
            typeof(DatabaseSettingsAttribute).Assembly,
            typeof(Npgsql.NpgsqlConnection).Assembly,
            typeof(Microsoft.Data.Sqlite.SqliteConnection).Assembly,
            typeof(Microsoft.Extensions.Configuration.IConfiguration).Assembly,
            typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
            typeof(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions).Assembly,
            typeof(Microsoft.Extensions.Logging.ILoggerFactory).Assembly,
            typeof(Microsoft.Extensions.Hosting.IHostedService).Assembly,
            typeof(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus).Assembly,
            typeof(Microsoft.Extensions.DependencyInjection.IHealthChecksBuilder).Assembly,
        })
        {
            references.Add(MetadataReference.CreateFromFile(assembly.Location));
        }

        return references.ToImmutableArray();
    });

    public static CSharpCompilation CreateCompilation(params string[] sources)
        => CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            s_references.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // As the SDK does: assembly-unification notices are not warnings.
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress }));

    public static GeneratorDriver CreateDriver()
        => CSharpGeneratorDriver.Create(
            new[] { new GeneratorType().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the driver (for reruns), the result and the compilation with generated code.</summary>
    public static (GeneratorDriver Driver, GeneratorDriverRunResult Result, Compilation Output) Run(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        return (driver, driver.GetRunResult(), output);
    }

    /// <summary>
    /// Runs the driver on <paramref name="source"/>; asserts no generator diagnostics and a warning-free compile of the output;
    /// compares every generated file with <c>Baselines/{baseline}</c> line by line (DBCORE_UPDATE_BASELINES=1 rewrites it);
    /// then reruns on an unrelated edit and asserts every tracked step is Cached or Unchanged.
    /// </summary>
    public static void VerifyAgainstBaseline(string source, string baseline)
    {
        CSharpCompilation compilation = CreateCompilation(source);
        (GeneratorDriver driver, GeneratorDriverRunResult result, Compilation output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        AssertCompilesWithoutWarnings(output);

        // The query catalog (VerifyQueriesAsync) has its own baseline (VerifyQueryCatalogAgainstBaseline).
        string generated = string.Join("\n// ----\n", result.GeneratedTrees
            .Where(t => !t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal))
            .OrderBy(t => t.FilePath, StringComparer.Ordinal)
            .Select(t => $"// {Path.GetFileName(t.FilePath)}\n" + t.GetText().ToString()));
        generated = Normalize(generated);
        CompareWithBaseline(generated, baseline);

        AssertCachedOnUnrelatedEdit(driver, compilation);
    }

    /// <summary>
    /// As <see cref="VerifyAgainstBaseline"/>, for the files of <c>[Query]</c> methods only (the settings files have their own
    /// baselines); also asserts the analyzers report nothing.
    /// </summary>
    public static async Task VerifyQueriesAgainstBaseline(string source, string baseline)
    {
        CSharpCompilation compilation = CreateCompilation(source);
        (GeneratorDriver driver, GeneratorDriverRunResult result, Compilation output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        AssertCompilesWithoutWarnings(output);
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await DbCore.Tests.Diagnostics.AnalyzerHarness.AnalyzeAsync(source);
        Assert.True(diagnostics.IsEmpty, "Unexpected diagnostics:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));

        string generated = string.Join("\n// ----\n", result.GeneratedTrees
            .Where(t => t.FilePath.EndsWith(".Query.g.cs", StringComparison.Ordinal))
            .OrderBy(t => t.FilePath, StringComparer.Ordinal)
            .Select(t => "// " + QueryFileName().Replace(Path.GetFileName(t.FilePath), ".HASH.Query.g.cs") + "\n" + t.GetText().ToString()));
        Assert.NotEmpty(generated);
        CompareWithBaseline(Normalize(generated), baseline);

        AssertCachedOnUnrelatedEdit(driver, compilation);
    }

    /// <summary>
    /// As <see cref="VerifyQueriesAgainstBaseline"/>, for the query catalogs only (<c>{Accessor}.QueryCatalog.g.cs</c>: the
    /// descriptors and <c>VerifyQueriesAsync</c>).
    /// </summary>
    public static void VerifyQueryCatalogAgainstBaseline(string source, string baseline)
    {
        CSharpCompilation compilation = CreateCompilation(source);
        (GeneratorDriver driver, GeneratorDriverRunResult result, Compilation output) = Run(compilation);

        Assert.Empty(result.Diagnostics);
        AssertCompilesWithoutWarnings(output);

        string generated = string.Join("\n// ----\n", result.GeneratedTrees
            .Where(t => t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal))
            .OrderBy(t => t.FilePath, StringComparer.Ordinal)
            .Select(t => $"// {Path.GetFileName(t.FilePath)}\n" + t.GetText().ToString()));
        Assert.NotEmpty(generated);
        CompareWithBaseline(Normalize(generated), baseline);

        AssertCachedOnUnrelatedEdit(driver, compilation);
    }

    [GeneratedRegex("\\.[0-9a-f]{8}\\.Query\\.g\\.cs$")]
    private static partial Regex QueryFileName();

    public static void AssertCompilesWithoutWarnings(Compilation output)
    {
        Diagnostic[] problems = output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            // Documentation comments are checked on the generated code only; the test sources have none.
            .Where(d => !(d.Id == "CS1591" && d.Location.SourceTree?.FilePath.StartsWith("Source", StringComparison.Ordinal) == true))
            .ToArray();
        Assert.True(problems.Length == 0, "The output does not compile cleanly:\n" + string.Join("\n", problems.Select(d => d.ToString())));
    }

    public static void AssertCachedOnUnrelatedEdit(GeneratorDriver driver, CSharpCompilation compilation)
    {
        CSharpCompilation edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Unrelated { internal static class Edit { public static int Value => 42; } }", ParseOptions, path: "Unrelated.cs"));
        GeneratorDriverRunResult rerun = driver.RunGenerators(edited).GetRunResult();
        GeneratorRunResult run = Assert.Single(rerun.Results);
        foreach (string name in new[] { TrackingNames.Settings, TrackingNames.UniqueSettings, TrackingNames.Queries, TrackingNames.Sessions, TrackingNames.BoundQueries, TrackingNames.QueryCatalogs })
        {
            if (!run.TrackedSteps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> steps))
            {
                Assert.True(name is TrackingNames.Queries or TrackingNames.Sessions or TrackingNames.BoundQueries or TrackingNames.QueryCatalogs, $"step {name} is not tracked"); // no [Query] method: the query steps never run
                continue;
            }

            foreach (IncrementalGeneratorRunStep step in steps)
            {
                foreach ((object value, IncrementalStepRunReason reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} output was {reason} after an unrelated edit");
                }
            }
        }

        foreach ((object value, IncrementalStepRunReason reason) in run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs))
        {
            Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"an output step was {reason} after an unrelated edit");
        }
    }

    private static string Normalize(string generated)
        => VersionPattern().Replace(generated.Replace("\r\n", "\n"), "\"DbCore.Generators\", \"VERSION\"");

    private static void CompareWithBaseline(string actual, string baseline)
    {
        string projectDirectory = typeof(GeneratorHarness).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .First(a => a.Key == "DbCoreTestsDirectory").Value!;
        string directory = Path.Combine(projectDirectory, "Baselines");
        string path = Path.Combine(directory, baseline);
        if (Environment.GetEnvironmentVariable("DBCORE_UPDATE_BASELINES") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"Baseline {baseline} is missing. Run the tests once with DBCORE_UPDATE_BASELINES=1 and review the new file.");
        string[] expectedLines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        string[] actualLines = actual.Split('\n');
        for (int i = 0; i < Math.Min(expectedLines.Length, actualLines.Length); i++)
        {
            Assert.True(expectedLines[i] == actualLines[i], $"{baseline} line {i + 1} differs.\nexpected: {expectedLines[i]}\nactual:   {actualLines[i]}\n(A baseline change is an API change: rerun with DBCORE_UPDATE_BASELINES=1 and review the diff.)");
        }

        Assert.True(expectedLines.Length == actualLines.Length, $"{baseline} has {expectedLines.Length} lines, the generator wrote {actualLines.Length}.");
    }

    [GeneratedRegex("\"DbCore\\.Generators\", \"[0-9.]+\"")]
    private static partial Regex VersionPattern();
}
