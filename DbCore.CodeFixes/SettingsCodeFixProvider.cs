using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace DbCore.CodeFixes;

/// <summary>
/// The shape every DbCore code fix shares: one document-level rewrite that takes all the diagnostics to fix, used both for
/// a single diagnostic and for Fix All (document, project or solution), so the two can never disagree.
/// </summary>
public abstract class SettingsCodeFixProvider : CodeFixProvider
{
    /// <summary>The title shown in the light bulb.</summary>
    protected abstract string Title { get; }

    /// <summary>The title for one diagnostic (by default <see cref="Title"/>); Fix All keeps one equivalence key regardless.</summary>
    protected virtual string TitleFor(Diagnostic diagnostic) => Title;

    /// <inheritdoc/>
    public sealed override FixAllProvider GetFixAllProvider()
        => FixAllProvider.Create(static async (context, document, diagnostics) =>
            await ((SettingsCodeFixProvider)context.CodeFixProvider).ApplyAsync(document, diagnostics, context.CancellationToken).ConfigureAwait(false));

    /// <inheritdoc/>
    public sealed override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return;
        }

        SemanticModel? model = NeedsSemanticModel
            ? await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false)
            : null;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!CanFix(root, model, diagnostic, context.CancellationToken))
            {
                continue;
            }

            Document document = context.Document;
            context.RegisterCodeFix(
                CodeAction.Create(TitleFor(diagnostic), ct => ApplyAsync(document, ImmutableArray.Create(diagnostic), ct), equivalenceKey: GetType().Name),
                diagnostic);
        }
    }

    /// <summary>True when <see cref="Rewrite"/> needs the semantic model.</summary>
    protected virtual bool NeedsSemanticModel => false;

    /// <summary>True when the fix applies to <paramref name="diagnostic"/> (no light bulb otherwise).</summary>
    protected abstract bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken);

    /// <summary>Returns the root with every fixable diagnostic of <paramref name="diagnostics"/> fixed.</summary>
    protected abstract SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken);

    private async Task<Document> ApplyAsync(Document document, ImmutableArray<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (root is null)
        {
            return document;
        }

        SemanticModel? model = NeedsSemanticModel ? await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false) : null;
        var fixable = new List<Diagnostic>(diagnostics.Length);
        foreach (Diagnostic diagnostic in diagnostics)
        {
            if (CanFix(root, model, diagnostic, cancellationToken))
            {
                fixable.Add(diagnostic);
            }
        }

        return fixable.Count == 0 ? document : document.WithSyntaxRoot(Rewrite(root, model, fixable, cancellationToken));
    }
}
