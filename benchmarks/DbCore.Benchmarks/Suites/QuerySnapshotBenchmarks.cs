extern alias generators;

using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using GeneratorType = generators::DbCore.Generators.DatabaseSettingsGenerator;
using QueryAnalyzerType = generators::DbCore.Generators.Diagnostics.QueryAnalyzer;
using SnapshotColumn = generators::DbCore.Infrastructure.SnapshotColumn;
using SnapshotEntry = generators::DbCore.Infrastructure.SnapshotEntry;
using SnapshotFormat = generators::DbCore.Infrastructure.QuerySnapshotFormat;
using SnapshotParameter = generators::DbCore.Infrastructure.SnapshotParameter;
using TrackingNames = generators::DbCore.Generators.TrackingNames;
using QueryParserType = generators::DbCore.Generators.Parsing.QueryParser;
using QueryOutputType = generators::DbCore.Generators.Model.QueryOutput;

namespace DbCore.Benchmarks.Suites;

/// <summary>
/// Checked queries (#14 item 7): a session with 200 <c>[Query]</c> methods in 10 files and its 200-entry
/// <c>dbcore.queries.json</c>. The generator: a full run, and the rerun after a keystroke in an unrelated file. The analyzer
/// (DBC0101-DBC0115, the snapshot check included): a full analysis of the project (the snapshot parsed afresh), and what the
/// IDE runs after that keystroke (the edited document's diagnostics; the snapshot's parse is cached per text).
/// </summary>
public class QuerySnapshotBenchmarks
{
    public const int QueryCount = 200;
    private const int Files = 10;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    private CSharpCompilation _compilation = null!;
    private CSharpCompilation _edited = null!;
    private GeneratorDriver _warmDriver = null!;
    private GeneratorDriver _warmFloor = null!;
    private GeneratorDriver _warmFloorWithOutputs = null!;
    private GeneratorDriver _warmParserWithOutputs = null!;
    private Compilation _output = null!;
    private Compilation _editedOutput = null!;
    private string _snapshot = null!;
    private AdditionalText _cachedSnapshot = null!;
    private (IMethodSymbol Method, AttributeData Attribute)[] _bound = [];

    [GlobalSetup]
    public void Setup()
    {
        _compilation = CreateCompilation();
        _edited = Keystroke(_compilation);
        _snapshot = CreateSnapshot();
        _cachedSnapshot = new SnapshotText(_snapshot);
        _warmDriver = CreateDriver(_cachedSnapshot, track: false).RunGeneratorsAndUpdateCompilation(_compilation, out _output, out _);
        CreateDriver(_cachedSnapshot, track: false).RunGeneratorsAndUpdateCompilation(_edited, out _editedOutput, out _);
        _warmFloor = CSharpGeneratorDriver.Create([new NameOnlyGenerator().AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(_compilation);
        _warmFloorWithOutputs = CSharpGeneratorDriver.Create([new NameOnlyGenerator(withOutputs: true).AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(_compilation);
        _warmParserWithOutputs = CSharpGeneratorDriver.Create([new ParserWithOutputsGenerator().AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(_compilation);
        _bound = [.. _edited.SyntaxTrees
            .SelectMany(tree => tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax>()
                .Select(node => _edited.GetSemanticModel(tree).GetDeclaredSymbol(node)))
            .OfType<IMethodSymbol>()
            .Select(method => (method, method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.Name == "QueryAttribute")))
            .Where(pair => pair.Item2 is not null)
            .Select(pair => (pair.method, pair.Item2!))];
        ParserOnBoundSymbols(); // binds everything the parse touches, so the benchmark measures the parser's own work
        string check = VerifyCaching();
        if (check.StartsWith("FAILED", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(check);
        }
    }

    [Benchmark(Baseline = true)]
    public GeneratorDriver GeneratorFullRun() => CreateDriver(_cachedSnapshot, track: false).RunGenerators(_compilation);

    [Benchmark]
    public GeneratorDriver GeneratorUnrelatedKeystroke() => _warmDriver.RunGenerators(_edited);

    /// <summary>
    /// The floor of any per-method ForAttributeWithMetadataName pipeline: Roslyn runs the semantic transform of every
    /// <c>[Query]</c> method again on each new compilation (the outputs then compare equal and stay cached); here the transform
    /// only takes the symbol's name, so this is the binding cost of the 200 methods alone.
    /// </summary>
    [Benchmark]
    public GeneratorDriver FloorNameOnlyTransformKeystroke() => _warmFloor.RunGenerators(_edited);

    /// <summary>The same floor with one cached output per method (see <see cref="NameOnlyGenerator"/>).</summary>
    [Benchmark]
    public GeneratorDriver FloorNameOnlyTransformWithOutputsKeystroke() => _warmFloorWithOutputs.RunGenerators(_edited);

    /// <summary>
    /// DbCore's real per-method transform (<c>QueryParser.ParseForGenerator</c>) in that floor: the keystroke of
    /// <see cref="GeneratorUnrelatedKeystroke"/> without DbCore's pipeline after the transform (the session combine, the
    /// catalog collect, the emitters), so the two differ by what that pipeline costs.
    /// </summary>
    [Benchmark]
    public GeneratorDriver FloorParserTransformWithOutputsKeystroke() => _warmParserWithOutputs.RunGenerators(_edited);

    /// <summary>
    /// The generator transform's own work for the 200 methods on symbols already bound (no Roslyn binding in it): what a
    /// keystroke costs beyond <see cref="FloorNameOnlyTransformKeystroke"/> that the parser itself could save.
    /// </summary>
    [Benchmark]
    public int ParserOnBoundSymbols()
    {
        int specs = 0;
        foreach ((IMethodSymbol method, AttributeData attribute) in _bound)
        {
            specs += QueryParserType.Parse(method, attribute, CancellationToken.None).Spec is null ? 0 : 1;
        }

        return specs;
    }

    [Benchmark]
    public ImmutableArray<Diagnostic> AnalyzerFullRun()
        => Analyze(_output, new SnapshotText(_snapshot)).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    /// <summary>The same analysis with no snapshot: what the snapshot check adds to a full run is the difference.</summary>
    [Benchmark]
    public ImmutableArray<Diagnostic> AnalyzerFullRunWithoutSnapshot()
        => _output.WithAnalyzers(
            ImmutableArray.Create<DiagnosticAnalyzer>(new QueryAnalyzerType()),
            new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();

    [Benchmark]
    public ImmutableArray<Diagnostic> AnalyzerUnrelatedKeystroke()
    {
        SyntaxTree unrelated = _editedOutput.SyntaxTrees.First(t => t.FilePath == "Unrelated.cs");
        return Analyze(_editedOutput, _cachedSnapshot).GetAnalyzerSemanticDiagnosticsAsync(_editedOutput.GetSemanticModel(unrelated), null, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Checks, before anything is measured, that the 200 methods match the snapshot (no diagnostic), that after the keystroke
    /// every tracked generator step and output is Cached or Unchanged, and that an edit of the snapshot re-runs no generator step
    /// (the generator does not read it; the analyzer does). Says so, or what failed.
    /// </summary>
    public static string VerifyCaching()
    {
        CSharpCompilation compilation = CreateCompilation();
        var snapshot = new SnapshotText(CreateSnapshot());
        GeneratorDriver driver = CreateDriver(snapshot, track: true).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        ImmutableArray<Diagnostic> diagnostics = Analyze(output, snapshot).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        if (diagnostics.Length > 0 || driver.GetRunResult().GeneratedTrees.Length < QueryCount)
        {
            return $"FAILED: {driver.GetRunResult().GeneratedTrees.Length} generated files and {diagnostics.Length} diagnostics, first: {diagnostics.FirstOrDefault()}";
        }

        string[] named = [TrackingNames.Settings, TrackingNames.UniqueSettings, TrackingNames.Queries, TrackingNames.Sessions, TrackingNames.BoundQueries, TrackingNames.QueryCatalogs];
        IncrementalStepRunReason[] Reasons(GeneratorDriver rerun)
        {
            GeneratorRunResult result = rerun.GetRunResult().Results.Single();
            return result.TrackedSteps.Where(pair => named.Contains(pair.Key)).SelectMany(pair => pair.Value)
                .Concat(result.TrackedOutputSteps.Values.SelectMany(steps => steps))
                .SelectMany(step => step.Outputs).Select(o => o.Reason).ToArray();
        }

        IncrementalStepRunReason[] keystroke = Reasons(driver.RunGenerators(Keystroke(compilation)));
        IncrementalStepRunReason[] snapshotEdit = Reasons(driver.ReplaceAdditionalText(snapshot, new SnapshotText(CreateSnapshot().Replace("\"nullable\": false", "\"nullable\": true", StringComparison.Ordinal))).RunGenerators(compilation));
        foreach ((string what, IncrementalStepRunReason[] reasons) in new[] { ("an unrelated keystroke", keystroke), ("an edit of the snapshot", snapshotEdit) })
        {
            if (reasons.Length == 0 || reasons.Any(r => r is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)))
            {
                return $"FAILED: after {what} the tracked steps were " + string.Join(", ", reasons.GroupBy(r => r).Select(g => $"{g.Key} x{g.Count()}"));
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{QueryCount} queries, no diagnostic against the {QueryCount}-entry snapshot; after an unrelated keystroke all {keystroke.Length} tracked outputs were Cached or Unchanged, and after an edit of the snapshot all {snapshotEdit.Length}");
    }

    /// <summary>
    /// The keystroke as an IDE has it: every keystroke is a new <see cref="Compilation"/>, whose symbols Roslyn binds again
    /// (the BenchmarkDotNet rows reuse one edited compilation, so from their second iteration on every symbol is bound).
    /// Each round makes a fresh edited compilation per generator and runs the warm drivers on it in a rotating order;
    /// every third round also times the same drivers again on that compilation, whose symbols are then bound (and DbCore's
    /// own per-compilation caches filled), for comparison. A full GC before each timed call, outside the timer, so no call
    /// pays for the garbage of the one before it. The SQL text cache (keyed by the attribute's string instance) is shared
    /// across rounds, as it is across an IDE's keystrokes in unchanged files. Stopwatch timing, medians and middle halves
    /// over the rounds: a measurement, not a BenchmarkDotNet result.
    /// </summary>
    public static string FreshCompilationKeystrokes(int rounds = 60)
    {
        CSharpCompilation compilation = CreateCompilation();
        var snapshot = new SnapshotText(CreateSnapshot());
        (string Name, string What, GeneratorDriver Driver)[] drivers =
        [
            ("dbcore", "DbCore's generator", CreateDriver(snapshot, track: false).RunGenerators(compilation)),
            ("parser + outputs", "DbCore's per-method transform, one trivial file per method, nothing after it", CSharpGeneratorDriver.Create([new ParserWithOutputsGenerator().AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(compilation)),
            ("name only + outputs", "a transform that returns the method's name, one trivial file per method", CSharpGeneratorDriver.Create([new NameOnlyGenerator(withOutputs: true).AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(compilation)),
            ("name only", "a transform that returns the method's name, no output", CSharpGeneratorDriver.Create([new NameOnlyGenerator().AsSourceGenerator()], parseOptions: s_parseOptions).RunGenerators(compilation)),
        ];
        var fresh = drivers.Select(_ => new List<double>()).ToArray();
        var bound = drivers.Select(_ => new List<double>()).ToArray();
        for (int round = -5; round < rounds; round++)
        {
            for (int k = 0; k < drivers.Length; k++)
            {
                int d = (k + Math.Max(round, 0)) % drivers.Length;
                CSharpCompilation edited = Keystroke(compilation);
                GC.Collect(); // outside the timer: no call pays for the garbage of the one before it
                GC.WaitForPendingFinalizers();
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                _ = drivers[d].Driver.RunGenerators(edited);
                double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (round >= 0)
                {
                    fresh[d].Add(ms);
                }

                if (round >= 0 && round % 3 == 0)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    start = System.Diagnostics.Stopwatch.GetTimestamp();
                    _ = drivers[d].Driver.RunGenerators(edited); // the same compilation again: its symbols are bound now
                    bound[d].Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        }

        static double At(List<double> values, double q)
        {
            double[] sorted = [.. values.Order()];
            return sorted[(int)Math.Round(q * (sorted.Length - 1))];
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Unrelated keystroke on a fresh compilation ({rounds} rounds, rotating order; ms):").AppendLine();
        table.AppendLine("| generator | what it does per [Query] method | fresh compilation: median | middle half | symbols already bound: median |");
        table.AppendLine("|---|---|---:|---|---:|");
        for (int d = 0; d < drivers.Length; d++)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {drivers[d].Name} | {drivers[d].What} | **{At(fresh[d], 0.5):F2}** | {At(fresh[d], 0.25):F2}..{At(fresh[d], 0.75):F2} | {At(bound[d], 0.5):F2} |");
        }

        return table.ToString();
    }

    private static CompilationWithAnalyzers Analyze(Compilation output, AdditionalText snapshot)
        => output.WithAnalyzers(
            ImmutableArray.Create<DiagnosticAnalyzer>(new QueryAnalyzerType()),
            new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray.Create(snapshot)), null, concurrentAnalysis: false, logAnalyzerExecutionTime: false));

    private static GeneratorDriver CreateDriver(AdditionalText snapshot, bool track)
        => CSharpGeneratorDriver.Create(
            [new GeneratorType().AsSourceGenerator()],
            additionalTexts: [snapshot],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    private static string Sql(int i) => $"SELECT id, name, done FROM t{i} WHERE id = @id";

    public static CSharpCompilation CreateCompilation()
    {
        var trees = new List<SyntaxTree>
        {
            CSharpSyntaxTree.ParseText(
                """
                using DbCore;
                namespace App;
                [DatabaseSettings]
                public partial class CatalogSettings { [ConnectionString] public string ConnectionString { get; set; } = "Data Source=catalog.db"; }
                public sealed record Row(long Id, string Name, bool Done);
                """,
                s_parseOptions,
                path: "Settings.cs"),
            CSharpSyntaxTree.ParseText("namespace Unrelated { internal static class Edit { public static int Value => 42; } }", s_parseOptions, path: "Unrelated.cs"),
        };
        for (int file = 0; file < Files; file++)
        {
            var source = new StringBuilder("using System.Threading;\nusing System.Threading.Tasks;\nusing DbCore;\nnamespace App;\npublic partial class CatalogSession\n{\n");
            for (int i = file * (QueryCount / Files); i < (file + 1) * (QueryCount / Files); i++)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"    [Query(\"{Sql(i)}\")]");
                source.AppendLine(CultureInfo.InvariantCulture, $"    public partial Task<Row?> Find{i}Async(long id, CancellationToken cancellationToken = default);");
            }

            trees.Add(CSharpSyntaxTree.ParseText(source.Append("}\n").ToString(), s_parseOptions, path: $"Queries{file}.cs"));
        }

        return CSharpCompilation.Create("TwoHundredQueries", trees, GeneratorBenchmarks.References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>A keystroke in a file with no query: the method body of Unrelated.cs changes.</summary>
    public static CSharpCompilation Keystroke(CSharpCompilation compilation)
    {
        SyntaxTree tree = compilation.SyntaxTrees.First(t => t.FilePath == "Unrelated.cs");
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(tree.GetText().Replace(tree.GetText().ToString().IndexOf("42", StringComparison.Ordinal), 2, "421")));
    }

    /// <summary>The snapshot VerifyQueriesAsync would write for the 200 methods on SQLite (id INTEGER, name TEXT, done BOOLEAN).</summary>
    public static string CreateSnapshot()
    {
        SnapshotColumn[] columns = [new("id", "INTEGER", "System.Int64", false), new("name", "TEXT", "System.String", false), new("done", "BOOLEAN", null, false)];
        return SnapshotFormat.Write(Enumerable.Range(0, QueryCount).Select(i =>
        {
            string positional = Sql(i).Replace("@id", "$1", StringComparison.Ordinal);
            return new SnapshotEntry("App.CatalogSession", $"Find{i}Async", SnapshotFormat.SqlHash(positional), Sql(i), SnapshotFormat.Sqlite, true, [new SnapshotParameter("id", null)], columns);
        }));
    }

    /// <summary>
    /// A generator whose transform of each <c>[Query]</c> method is its name: the floor for
    /// <see cref="FloorNameOnlyTransformKeystroke"/>. With <paramref name="withOutputs"/>, one generated file per method,
    /// named as DbCore names them: what Roslyn itself costs for a keystroke with 200 cached per-method outputs (it re-adds
    /// every cached source and checks its hint name against those added before it).
    /// </summary>
    private sealed class NameOnlyGenerator(bool withOutputs = false) : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<string> names = context.SyntaxProvider.ForAttributeWithMetadataName(
                "DbCore.QueryAttribute",
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                transform: static (attributed, _) => attributed.TargetSymbol.Name);
            if (withOutputs)
            {
                context.RegisterSourceOutput(names, static (spc, name) => spc.AddSource("App.AppSession." + name + ".00000000.Query.g.cs", "// " + name));
            }
            else
            {
                context.RegisterSourceOutput(names, static (_, _) => { });
            }
        }
    }

    /// <summary><see cref="NameOnlyGenerator"/> with outputs and DbCore's transform in place of the name-only one.</summary>
    private sealed class ParserWithOutputsGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            IncrementalValuesProvider<QueryOutputType> outputs = context.SyntaxProvider.ForAttributeWithMetadataName(
                "DbCore.QueryAttribute",
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax,
                transform: static (attributed, cancellationToken) => QueryParserType.ParseForGenerator(attributed, cancellationToken))
                .Where(static output => output is not null)
                .Select(static (output, _) => output!);
            context.RegisterSourceOutput(outputs, static (spc, output) =>
                spc.AddSource("App.AppSession." + (output.Method?.MethodName ?? output.Stub!.MethodName) + ".00000000.Query.g.cs", "// query"));
        }
    }

    private sealed class SnapshotText(string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);

        public override string Path => "/app/dbcore.queries.json";

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }
}
