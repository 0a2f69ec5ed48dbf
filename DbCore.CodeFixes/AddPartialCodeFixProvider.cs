using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using DbCore.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.CodeFixes;

/// <summary>DBC0001: adds <c>partial</c> to the settings class and to every containing type that lacks it.</summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(AddPartialCodeFixProvider))]
[Shared]
public sealed class AddPartialCodeFixProvider : SettingsCodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.NotPartial);

    /// <inheritdoc/>
    protected override string Title => "Add 'partial'";

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => SyntaxHelpers.FindAncestor<TypeDeclarationSyntax>(root, diagnostic.Location.SourceSpan) is not null;

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        // The diagnostic is on one type (the class or a containing type); the generated code needs the whole chain.
        var targets = new HashSet<TypeDeclarationSyntax>();
        foreach (Diagnostic diagnostic in diagnostics)
        {
            TypeDeclarationSyntax? declaration = SyntaxHelpers.FindAncestor<TypeDeclarationSyntax>(root, diagnostic.Location.SourceSpan);
            if (declaration is null)
            {
                continue;
            }

            // On a containing type, the settings classes inside it need the same fix, and every type between.
            targets.UnionWith(declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>());
            foreach (ClassDeclarationSyntax settings in declaration.DescendantNodes().OfType<ClassDeclarationSyntax>().Where(IsSettingsClass))
            {
                targets.UnionWith(settings.AncestorsAndSelf().OfType<TypeDeclarationSyntax>());
            }
        }

        return root.ReplaceNodes(targets, static (_, rewritten) => SyntaxHelpers.AddPartial(rewritten));
    }

    private static bool IsSettingsClass(ClassDeclarationSyntax declaration)
        => declaration.AttributeLists.SelectMany(l => l.Attributes).Any(a =>
            (a.Name is QualifiedNameSyntax q ? q.Right.Identifier.ValueText : a.Name is AliasQualifiedNameSyntax aq ? aq.Name.Identifier.ValueText : a.Name.ToString())
                is "DatabaseSettings" or "DatabaseSettingsAttribute");
}
