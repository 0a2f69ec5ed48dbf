extern alias generators;

using System.Collections.Immutable;
using DbCore.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TrackingNames = generators::DbCore.Generators.TrackingNames;

namespace DbCore.Tests.Queries;

/// <summary>The query pipeline stays cached: an unrelated edit re-emits nothing, an edit of one query re-emits that query only.</summary>
public sealed class QueryCachingTests
{
    /// <summary>A settings class and a session of two queries (also the source of <see cref="QuerySnapshotCachingTests"/>).</summary>
    internal const string Session = """
        using System.Threading;
        using System.Threading.Tasks;
        using DbCore;

        namespace App;

        [DatabaseSettings]
        public partial class DatabaseSettings
        {
            [ConnectionString] public string ConnectionString { get; set; } = "Data Source=app.db";
        }

        public sealed record Todo(long Id, string Title);

        public partial class DatabaseSession
        {
            [Query("SELECT id, title FROM todos WHERE id = @id")]
            public partial Task<Todo?> FindAsync(long id, CancellationToken cancellationToken = default);

            [Query("DELETE FROM todos WHERE id = @id")]
            public partial Task<int> DeleteAsync(long id, CancellationToken cancellationToken = default);
        }
        """;

    [Fact]
    public void Unrelated_edit_keeps_every_query_step_cached()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Session);
        (GeneratorDriver driver, _, _) = GeneratorHarness.Run(compilation);
        GeneratorHarness.AssertCachedOnUnrelatedEdit(driver, compilation);
    }

    [Fact]
    public void Editing_one_query_re_emits_that_query_only()
    {
        CSharpCompilation compilation = GeneratorHarness.CreateCompilation(Session);
        (GeneratorDriver driver, GeneratorDriverRunResult first, _) = GeneratorHarness.Run(compilation);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        SyntaxTree edited = CSharpSyntaxTree.ParseText(
            Session.Replace("SELECT id, title FROM todos WHERE id = @id", "SELECT id, title FROM todos WHERE id = @id AND title <> ''", StringComparison.Ordinal),
            GeneratorHarness.ParseOptions,
            path: tree.FilePath);

        GeneratorDriverRunResult second = driver.RunGenerators(compilation.ReplaceSyntaxTree(tree, edited)).GetRunResult();
        GeneratorRunResult run = Assert.Single(second.Results);
        ImmutableArray<IncrementalGeneratorRunStep> bound = run.TrackedSteps[TrackingNames.BoundQueries];
        var reasons = bound.SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(2, reasons.Count);
        Assert.Single(reasons, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);

        // The settings steps did not rerun for a query edit.
        foreach (string name in new[] { TrackingNames.UniqueSettings, TrackingNames.Sessions })
        {
            Assert.All(run.TrackedSteps[name].SelectMany(s => s.Outputs), o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {o.Reason}"));
        }

        // Only the edited query's file changed.
        string Text(GeneratorDriverRunResult result, string method) => result.GeneratedTrees.Single(t => t.FilePath.Contains("." + method + ".", StringComparison.Ordinal)).GetText().ToString();
        Assert.Equal(Text(first, "DeleteAsync"), Text(second, "DeleteAsync"));
        Assert.NotEqual(Text(first, "FindAsync"), Text(second, "FindAsync"));
    }
}
