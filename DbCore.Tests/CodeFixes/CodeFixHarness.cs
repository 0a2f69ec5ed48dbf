extern alias codefixes;
extern alias generators;

using System.Collections.Immutable;
using DbCore.Tests.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using AnalyzerType = generators::DbCore.Generators.Diagnostics.DatabaseSettingsAnalyzer;
using QueryAnalyzerType = generators::DbCore.Generators.Diagnostics.QueryAnalyzer;

namespace DbCore.Tests.CodeFixes;

/// <summary>Applies a DbCore code fix in a real <see cref="AdhocWorkspace"/> and returns the resulting document text.</summary>
internal static class CodeFixHarness
{
    /// <summary>
    /// Runs the analyzer on <paramref name="source"/>, asks <paramref name="provider"/> for the fix of the diagnostic with
    /// <paramref name="id"/> (the first one, or all of them through Fix All in document scope), applies it and returns the text.
    /// </summary>
    public static async Task<string> ApplyAsync(CodeFixProvider provider, string source, string id, bool fixAll = false)
    {
        using var workspace = new AdhocWorkspace();
        Document document = CreateDocument(workspace, source);
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(document, id);
        Assert.NotEmpty(diagnostics);

        CodeAction action;
        if (fixAll)
        {
            FixAllProvider fixAllProvider = provider.GetFixAllProvider()!;
            var fixAllContext = new FixAllContext(
                document,
                provider,
                FixAllScope.Document,
                provider.GetType().Name,
                new[] { id },
                new DiagnosticProvider(diagnostics),
                CancellationToken.None);
            action = (await fixAllProvider.GetFixAsync(fixAllContext))!;
            Assert.NotNull(action);
        }
        else
        {
            var actions = new List<CodeAction>();
            var context = new CodeFixContext(document, diagnostics[0], (a, _) => actions.Add(a), CancellationToken.None);
            await provider.RegisterCodeFixesAsync(context);
            action = Assert.Single(actions);
        }

        ImmutableArray<CodeActionOperation> operations = await action.GetOperationsAsync(CancellationToken.None);
        ApplyChangesOperation apply = Assert.Single(operations.OfType<ApplyChangesOperation>());
        Assert.True(workspace.TryApplyChanges(apply.ChangedSolution));
        Document changed = workspace.CurrentSolution.GetDocument(document.Id)!;
        return (await changed.GetTextAsync()).ToString();
    }

    /// <summary>The titles of the fixes <paramref name="provider"/> offers for the first <paramref name="id"/> diagnostic.</summary>
    public static async Task<string[]> TitlesAsync(CodeFixProvider provider, string source, string id)
    {
        using var workspace = new AdhocWorkspace();
        Document document = CreateDocument(workspace, source);
        ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(document, id);
        Assert.NotEmpty(diagnostics);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostics[0], (a, _) => actions.Add(a), CancellationToken.None));
        return actions.Select(a => a.Title).ToArray();
    }

    /// <summary>True when <paramref name="provider"/> offers a fix for the first <paramref name="id"/> diagnostic.</summary>
    public static async Task<bool> OffersFixAsync(CodeFixProvider provider, string source, string id)
        => (await TitlesAsync(provider, source, id)).Length > 0;

    private static Document CreateDocument(AdhocWorkspace workspace, string source)
    {
        CSharpCompilation template = Generator.GeneratorHarness.CreateCompilation();
        ProjectInfo project = ProjectInfo.Create(
            ProjectId.CreateNewId(),
            VersionStamp.Create(),
            "Consumer",
            "Consumer",
            LanguageNames.CSharp,
            compilationOptions: template.Options,
            parseOptions: Generator.GeneratorHarness.ParseOptions,
            metadataReferences: template.References);
        Solution solution = workspace.CurrentSolution.AddProject(project);
        DocumentId documentId = DocumentId.CreateNewId(project.Id);
        solution = solution.AddDocument(documentId, "Source0.cs", SourceText.From(source), filePath: "Source0.cs");
        Assert.True(workspace.TryApplyChanges(solution));
        return workspace.CurrentSolution.GetDocument(documentId)!;
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Document document, string id)
    {
        Compilation compilation = (await document.Project.GetCompilationAsync())!;
        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new AnalyzerType(), new QueryAnalyzerType()))
            .GetAnalyzerDiagnosticsAsync();
        return diagnostics.Where(d => d.Id == id).OrderBy(d => d.Location.SourceSpan.Start).ToImmutableArray();
    }

    /// <summary>Asserts that the fixed text has no DBC diagnostic left (and so the fix really fixed it).</summary>
    public static async Task AssertNoDiagnosticAsync(string fixedSource)
    {
        (_, _, ImmutableArray<Diagnostic> diagnostics) = await AnalyzerHarness.AnalyzeAsync(fixedSource);
        Assert.True(diagnostics.IsEmpty, "Diagnostics left after the fix:\n" + string.Join("\n", diagnostics.Select(d => d.ToString())));
    }

    private sealed class DiagnosticProvider : FixAllContext.DiagnosticProvider
    {
        private readonly ImmutableArray<Diagnostic> _diagnostics;

        public DiagnosticProvider(ImmutableArray<Diagnostic> diagnostics) => _diagnostics = diagnostics;

        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken)
            => Task.FromResult<IEnumerable<Diagnostic>>(_diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken)
            => Task.FromResult<IEnumerable<Diagnostic>>(_diagnostics);

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken)
            => Task.FromResult<IEnumerable<Diagnostic>>(ImmutableArray<Diagnostic>.Empty);
    }
}
