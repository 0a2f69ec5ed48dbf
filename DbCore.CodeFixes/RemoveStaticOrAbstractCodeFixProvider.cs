using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using DbCore.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.CodeFixes;

/// <summary>
/// DBC0011 for the shapes with an obvious fix: removes <c>static</c> or <c>abstract</c> from the settings class (the generated
/// accessor creates and binds an instance). Generic classes and classes nested in generic types get no fix: only the user
/// knows which type argument was meant.
/// </summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(RemoveStaticOrAbstractCodeFixProvider))]
[Shared]
public sealed class RemoveStaticOrAbstractCodeFixProvider : SettingsCodeFixProvider
{
    private static readonly SyntaxKind[] s_removed = { SyntaxKind.StaticKeyword, SyntaxKind.AbstractKeyword };

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UnsupportedShape);

    /// <inheritdoc/>
    protected override string Title => "Make the settings class a non-static, non-abstract class";

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is { } declaration
            && (declaration.Modifiers.Any(SyntaxKind.StaticKeyword) || declaration.Modifiers.Any(SyntaxKind.AbstractKeyword))
            && declaration.TypeParameterList is null;

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var targets = new HashSet<ClassDeclarationSyntax>();
        foreach (Diagnostic diagnostic in diagnostics)
        {
            targets.Add(Find(root, diagnostic)!);
        }

        return root.ReplaceNodes(targets, static (_, rewritten) => SyntaxHelpers.RemoveModifiers(rewritten, s_removed));
    }

    private static ClassDeclarationSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<ClassDeclarationSyntax>(root, diagnostic.Location.SourceSpan);
}
