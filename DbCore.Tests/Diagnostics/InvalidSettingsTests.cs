extern alias generators;

using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using AnalyzerType = generators::DbCore.Generators.Diagnostics.DatabaseSettingsAnalyzer;
using Descriptors = generators::DbCore.Generators.Diagnostics.DiagnosticDescriptors;
using QueryAnalyzerType = generators::DbCore.Generators.Diagnostics.QueryAnalyzer;

namespace DbCore.Tests.Diagnostics;

/// <summary>What the user sees for an invalid settings class: the DBC diagnostics and nothing else.</summary>
public sealed class InvalidSettingsTests
{
    public static TheoryData<string, string> InvalidClasses => new()
    {
        { "DBC0001", "[DatabaseSettings] public class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0002", "[DatabaseSettings] public partial class DatabaseSettings { public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0003", "[DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public string A { get; set; } = \"Data Source=a.db\"; [ConnectionString] public string B { get; set; } = \"Data Source=b.db\"; }" },
        { "DBC0004", "[DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public int Port { get; set; } }" },
        { "DBC0005", "[DatabaseSettings, PoolProfile(\"Production\", Size = -1)] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0006", "[DatabaseSettings, PoolProfile(\"Production\"), PoolProfile(\"PRODUCTION\")] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0007", "[DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Sourse=a.db\"; }" },
        { "DBC0008", "[DatabaseSettings(Provider = DatabaseProvider.PostgreSql)] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0010", "[DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; public int Retry { get; set; } }" },
        { "DBC0010", "public class Database { } [DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0010", "[DatabaseSettings(Name = \"X\")] public partial class ASettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; } [DatabaseSettings(Name = \"X\")] public partial class BSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=b.db\"; }" },
        { "DBC0011", "[DatabaseSettings] public abstract partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
        { "DBC0011", "[DatabaseSettings] public partial class DatabaseSettings<T> { [ConnectionString] public string Cs { get; set; } = \"Data Source=a.db\"; }" },
    };

    [Theory]
    [MemberData(nameof(InvalidClasses))]
    public async Task Invalid_class_generates_nothing_throws_nothing_and_shows_only_DBC_errors(string id, string body)
    {
        string source = "using DbCore;\n\nnamespace App;\n\n" + body;
        (Compilation output, GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(source);

        GeneratorRunResult result = Assert.Single(run.Results);
        Assert.Null(result.Exception);
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.GeneratedSources);

        // No cascade: the C# compiler reports no error and no warning of its own.
        Diagnostic[] compiler = output.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Id != "CS1591") // the test source has no doc comments
            .ToArray();
        Assert.True(compiler.Length == 0, "The compiler reported:\n" + string.Join("\n", compiler.Select(d => d.ToString())));
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Equal(id, d.Id));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
    }

    [Fact]
    public async Task A_password_warning_still_generates()
    {
        (Compilation output, GeneratorDriverRunResult run, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(
            "using DbCore;\nnamespace App;\n[DatabaseSettings] public partial class DatabaseSettings { [ConnectionString] public string Cs { get; set; } = \"Host=h;Password=p\"; }");
        Assert.Equal("DBC0009", Assert.Single(diagnostics).Id);
        Assert.Single(run.GeneratedTrees, t => !t.FilePath.EndsWith(".QueryCatalog.g.cs", StringComparison.Ordinal));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public async Task Compilation_without_DbCore_registers_no_work()
    {
        Compilation compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create(
            "Plain",
            new[] { Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("class C { }") },
            Basic.Reference.Assemblies.Net100.References.All);
        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new AnalyzerType()))
            .GetAnalyzerDiagnosticsAsync();
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void Every_descriptor_has_a_docs_page_an_index_entry_and_a_release_entry()
    {
        string root = RepositoryRoot();
        string index = File.ReadAllText(Path.Combine(root, "docs", "diagnostics", "README.md"));
        string releases = File.ReadAllText(Path.Combine(root, "DbCore.Generators", "AnalyzerReleases.Unshipped.md"))
            + File.ReadAllText(Path.Combine(root, "DbCore.Generators", "AnalyzerReleases.Shipped.md"));
        DiagnosticDescriptor[] descriptors = new AnalyzerType().SupportedDiagnostics
            .Concat(new QueryAnalyzerType().SupportedDiagnostics)
            .ToArray();
        Assert.Equal(27, descriptors.Select(d => d.Id).Distinct().Count());
        foreach (DiagnosticDescriptor descriptor in descriptors)
        {
            Assert.Equal(Descriptors.HelpLinkBase + descriptor.Id + ".md", descriptor.HelpLinkUri);
            Assert.EndsWith($"/docs/diagnostics/{descriptor.Id}.md", descriptor.HelpLinkUri, StringComparison.Ordinal);
            string page = Path.Combine(root, "docs", "diagnostics", descriptor.Id + ".md");
            Assert.True(File.Exists(page), $"{page} is missing");
            string text = File.ReadAllText(page);
            Assert.StartsWith($"# {descriptor.Id}: {descriptor.Title}", text, StringComparison.Ordinal);
            Assert.Contains($"({descriptor.Id}.md)", index, StringComparison.Ordinal);
            Assert.Contains($"{descriptor.Id} | DbCore | {descriptor.DefaultSeverity}", releases, StringComparison.Ordinal);
            Assert.Equal("DbCore", descriptor.Category);
        }
    }

    private static string RepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string path = "")
    {
        // CallerFilePath may be path-mapped in CI; fall back to walking up from the test assembly.
        string? directory = File.Exists(path) ? Path.GetDirectoryName(path) : Path.GetDirectoryName(typeof(InvalidSettingsTests).Assembly.Location);
        while (directory is not null && !File.Exists(Path.Combine(directory, "DbCore.sln")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        Assert.NotNull(directory);
        return directory!;
    }
}
