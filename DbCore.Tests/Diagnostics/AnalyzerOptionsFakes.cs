using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.Tests.Diagnostics;

/// <summary>An additional file held in memory, as MSBuild's AdditionalFiles hands one to an analyzer.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Global analyzer config options (<c>build_property.*</c>, what CompilerVisibleProperty passes); no per-file options.</summary>
internal sealed class GlobalOptionsProvider(IReadOnlyDictionary<string, string> global) : AnalyzerConfigOptionsProvider
{
    private static readonly AnalyzerConfigOptions s_empty = new Options(ImmutableDictionary<string, string>.Empty);

    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(global);

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => s_empty;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => s_empty;

    /// <summary>Analyzer options with <paramref name="files"/> and the MSBuild properties <paramref name="properties"/> (name without <c>build_property.</c>).</summary>
    public static AnalyzerOptions Create(IEnumerable<AdditionalText> files, params (string Name, string Value)[] properties)
        => new(files.ToImmutableArray(), new GlobalOptionsProvider(properties.ToDictionary(p => "build_property." + p.Name, p => p.Value, StringComparer.Ordinal)));

    private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
    }
}
