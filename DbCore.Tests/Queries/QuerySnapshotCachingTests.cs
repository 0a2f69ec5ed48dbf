extern alias generators;

using System.Collections.Immutable;
using DbCore.Tests.Diagnostics;
using DbCore.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using GeneratorType = generators::DbCore.Generators.DatabaseSettingsGenerator;
using QuerySnapshotCheck = generators::DbCore.Generators.Diagnostics.QuerySnapshotCheck;
using TrackingNames = generators::DbCore.Generators.TrackingNames;

namespace DbCore.Tests.Queries;

/// <summary>
/// The snapshot costs the generator nothing: with dbcore.queries.json among the additional files, an unrelated edit and an
/// edit of the snapshot itself leave every tracked step Cached or Unchanged (the generator does not read it; the analyzer
/// does), and the analyzer parses one snapshot text once, however many compilations (keystrokes) check against it.
/// </summary>
public sealed class QuerySnapshotCachingTests
{
    private const string Source = QueryCachingTests.Session;

    private const string Snapshot = """
        {
          "version": 1,
          "queries": []
        }

        """;

    private static readonly string[] s_steps = [TrackingNames.Settings, TrackingNames.UniqueSettings, TrackingNames.Queries, TrackingNames.Sessions, TrackingNames.BoundQueries, TrackingNames.QueryCatalogs];

    private static void AssertAllCached(GeneratorDriver rerun, string what)
    {
        GeneratorRunResult run = Assert.Single(rerun.GetRunResult().Results);
        var reasons = s_steps.SelectMany(name => run.TrackedSteps[name]).Concat(run.TrackedOutputSteps.Values.SelectMany(s => s))
            .SelectMany(step => step.Outputs).Select(o => o.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{what}: {r}"));
    }

    [Fact]
    public void Unrelated_and_snapshot_edits_leave_every_generator_step_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Source);
        var snapshot = new InMemoryAdditionalText("/app/dbcore.queries.json", Snapshot);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new GeneratorType().AsSourceGenerator()],
            additionalTexts: [snapshot],
            parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true)).RunGenerators(compilation);

        CSharpCompilation edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Unrelated { internal static class Edit { public static int Value => 42; } }", GeneratorHarness.ParseOptions, path: "Unrelated.cs"));
        AssertAllCached(driver.RunGenerators(edited), "after an unrelated edit");

        var changed = new InMemoryAdditionalText("/app/dbcore.queries.json", Snapshot.Replace("[]", "[ ]", StringComparison.Ordinal));
        AssertAllCached(driver.ReplaceAdditionalText(snapshot, changed).RunGenerators(compilation), "after an edit of dbcore.queries.json");
    }

    [Fact]
    public void The_analyzer_parses_one_snapshot_text_once()
    {
        var snapshot = new InMemoryAdditionalText("/app/dbcore.queries.json", Snapshot);
        AnalyzerOptions options = GlobalOptionsProvider.Create([snapshot]);
        var first = QuerySnapshotCheck.Load(options, CancellationToken.None);
        var second = QuerySnapshotCheck.Load(options, CancellationToken.None);
        Assert.NotNull(first?.Parsed);
        Assert.Same(first.Parsed, second?.Parsed);
        Assert.Null(first.Parsed.Error);

        var changed = QuerySnapshotCheck.Load(GlobalOptionsProvider.Create([new InMemoryAdditionalText("/app/dbcore.queries.json", Snapshot + " ")]), CancellationToken.None);
        Assert.NotSame(first.Parsed, changed?.Parsed);
    }
}
