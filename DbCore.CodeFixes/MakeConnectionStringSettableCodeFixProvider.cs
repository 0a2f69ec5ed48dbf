using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using DbCore.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.CodeFixes;

/// <summary>
/// DBC0004 for a <c>string</c> auto-property: makes it a public instance <c>{ get; set; }</c> property (the binder sets it
/// from configuration). A property of another type, or one with accessor bodies, gets no fix: changing its type or logic is
/// the user's decision.
/// </summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(MakeConnectionStringSettableCodeFixProvider))]
[Shared]
public sealed class MakeConnectionStringSettableCodeFixProvider : SettingsCodeFixProvider
{
    private static readonly SyntaxKind[] s_accessibility =
    {
        SyntaxKind.PrivateKeyword, SyntaxKind.ProtectedKeyword, SyntaxKind.InternalKeyword, SyntaxKind.PublicKeyword,
    };

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.InvalidConnectionStringProperty);

    /// <inheritdoc/>
    protected override string Title => "Make it a public { get; set; } property";

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is { AccessorList: { } accessors, ExplicitInterfaceSpecifier: null } property
            && property.Type is PredefinedTypeSyntax predefined && predefined.Keyword.IsKind(SyntaxKind.StringKeyword)
            && accessors.Accessors.All(a => a.Body is null && a.ExpressionBody is null);

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var targets = new HashSet<PropertyDeclarationSyntax>(diagnostics.Select(d => Find(root, d)!));
        return root.ReplaceNodes(targets, static (_, rewritten) => MakeSettable(rewritten));
    }

    private static PropertyDeclarationSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<PropertyDeclarationSyntax>(root, diagnostic.Location.SourceSpan);

    private static PropertyDeclarationSyntax MakeSettable(PropertyDeclarationSyntax property)
    {
        // Modifiers: no static, and public as the only accessibility, first, on the line the modifiers started.
        SyntaxTriviaList lead = property.Modifiers.Count > 0 ? property.Modifiers[0].LeadingTrivia : property.Type.GetLeadingTrivia();
        var modifiers = property.Modifiers
            .Where(m => !m.IsKind(SyntaxKind.StaticKeyword) && !s_accessibility.Contains(m.Kind()))
            .Select(m => m.WithLeadingTrivia(SyntaxTriviaList.Empty))
            .ToList();
        modifiers.Insert(0, SyntaxFactory.Token(lead, SyntaxKind.PublicKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space)));

        AccessorListSyntax accessors = property.AccessorList!;
        AccessorListSyntax settable = SyntaxFactory.AccessorList(SyntaxFactory.List(new[]
            {
                SyntaxFactory.AccessorDeclaration(SyntaxKind.GetAccessorDeclaration).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken)),
                SyntaxFactory.AccessorDeclaration(SyntaxKind.SetAccessorDeclaration).WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken)).WithLeadingTrivia(SyntaxFactory.Space),
            }))
            .WithOpenBraceToken(accessors.OpenBraceToken)
            .WithCloseBraceToken(accessors.CloseBraceToken.WithLeadingTrivia(SyntaxFactory.Space));

        return property
            .WithType(property.Type.WithLeadingTrivia(SyntaxTriviaList.Empty))
            .WithModifiers(SyntaxFactory.TokenList(modifiers))
            .WithAccessorList(settable);
    }
}
