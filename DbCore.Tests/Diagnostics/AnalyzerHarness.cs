extern alias generators;

using System.Collections.Immutable;
using System.Globalization;
using DbCore.Tests.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using AnalyzerType = generators::DbCore.Generators.Diagnostics.DatabaseSettingsAnalyzer;
using QueryAnalyzerType = generators::DbCore.Generators.Diagnostics.QueryAnalyzer;

namespace DbCore.Tests.Diagnostics;

/// <summary>
/// Runs DbCore's analyzer as the compiler does: on the compilation that already contains the generator's output.
/// Test sources mark expected spans with <c>[|...|]</c>.
/// </summary>
internal static class AnalyzerHarness
{
    /// <summary>Strips <c>[|</c> and <c>|]</c> from <paramref name="markup"/> and returns the marked spans in order.</summary>
    public static (string Source, ImmutableArray<TextSpan> Spans) ParseMarkup(string markup)
    {
        var source = new System.Text.StringBuilder(markup.Length);
        var spans = ImmutableArray.CreateBuilder<TextSpan>();
        var open = new Stack<int>();
        for (int i = 0; i < markup.Length; i++)
        {
            if (string.CompareOrdinal(markup, i, "[|", 0, 2) == 0)
            {
                open.Push(source.Length);
                i++;
            }
            else if (string.CompareOrdinal(markup, i, "|]", 0, 2) == 0)
            {
                int start = open.Pop();
                spans.Add(TextSpan.FromBounds(start, source.Length));
                i++;
            }
            else
            {
                source.Append(markup[i]);
            }
        }

        Assert.Empty(open);
        return (source.ToString(), spans.ToImmutable());
    }

    /// <summary>The generator's output compilation and every DBC diagnostic the analyzer reports on it (sorted by position).</summary>
    public static Task<(Compilation Output, GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> Diagnostics)> AnalyzeAsync(params string[] sources)
        => AnalyzeAsync(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), sources);

    /// <summary>As <see cref="AnalyzeAsync(string[])"/>, with additional files and MSBuild properties (<paramref name="options"/>).</summary>
    public static async Task<(Compilation Output, GeneratorDriverRunResult Run, ImmutableArray<Diagnostic> Diagnostics)> AnalyzeAsync(AnalyzerOptions options, params string[] sources)
    {
        Compilation output;
        GeneratorDriverRunResult run;
        (_, run, output) = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(sources));
        CompilationWithAnalyzers withAnalyzers = output.WithAnalyzers(
            ImmutableArray.Create<DiagnosticAnalyzer>(new AnalyzerType(), new QueryAnalyzerType()),
            new CompilationWithAnalyzersOptions(
                options,
                onAnalyzerException: static (exception, _, _) => throw new InvalidOperationException("The analyzer threw.", exception),
                concurrentAnalysis: true,
                logAnalyzerExecutionTime: false));
        ImmutableArray<Diagnostic> diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync();
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        return (output, run, diagnostics
            .Where(d => d.Id.StartsWith("DBC", StringComparison.Ordinal))
            .OrderBy(d => d.Location.GetLineSpan().Path, StringComparer.Ordinal)
            .ThenBy(d => d.Location.SourceSpan.Start)
            .ToImmutableArray());
    }

    /// <summary>
    /// Asserts that <paramref name="markup"/> reports exactly one diagnostic per marked span, each with <paramref name="id"/>,
    /// <paramref name="severity"/> and the given message (in span order).
    /// </summary>
    public static async Task AssertDiagnosticsAsync(string markup, string id, DiagnosticSeverity severity, params string[] messages)
    {
        (string source, ImmutableArray<TextSpan> spans) = ParseMarkup(markup);
        Assert.Equal(messages.Length, spans.Length);
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzeAsync(source);
        Assert.True(
            diagnostics.Length == spans.Length,
            $"Expected {spans.Length} diagnostic(s), got:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));
        for (int i = 0; i < spans.Length; i++)
        {
            Diagnostic diagnostic = diagnostics[i];
            Assert.Equal(id, diagnostic.Id);
            Assert.Equal(severity, diagnostic.Severity);
            Assert.Equal(messages[i], diagnostic.GetMessage(CultureInfo.InvariantCulture));
            Assert.Equal("Source0.cs", diagnostic.Location.SourceTree?.FilePath);
            Assert.True(
                spans[i] == diagnostic.Location.SourceSpan,
                $"Expected span '{source.Substring(spans[i].Start, spans[i].Length)}' {spans[i]}, got '{source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length)}' {diagnostic.Location.SourceSpan}");
            Assert.Equal($"https://github.com/dbcore/dbcore/blob/main/docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        }
    }

    /// <summary>Asserts no DBC diagnostic, a generated file per settings class, and an output that compiles without warnings.</summary>
    public static async Task AssertCleanAsync(string source, int settingsClasses = 1)
    {
        (Compilation output, GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics) = await AnalyzeAsync(source);
        Assert.True(diagnostics.IsEmpty, "Unexpected diagnostics:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));
        // One settings file per class (each accessor also gets its query catalog, counted apart).
        Assert.Equal(settingsClasses, run.GeneratedTrees.Count(t => !t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal)));
        Assert.Equal(settingsClasses, run.GeneratedTrees.Count(t => t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal)));
        GeneratorHarness.AssertCompilesWithoutWarnings(output);
    }
}
