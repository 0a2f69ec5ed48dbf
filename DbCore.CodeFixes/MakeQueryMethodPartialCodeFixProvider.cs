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
/// DBC0108: makes the <c>[Query]</c> method a partial definition: adds <c>partial</c> (and drops <c>async</c>), replaces a
/// body with <c>;</c>, and adds <c>partial</c> to every containing type that lacks it (a partial method needs a partial type).
/// </summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(MakeQueryMethodPartialCodeFixProvider))]
[Shared]
public sealed class MakeQueryMethodPartialCodeFixProvider : SettingsCodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.QueryMethodNotPartial);

    /// <inheritdoc/>
    protected override string Title => "Make the method partial";

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is not null;

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var targets = new HashSet<SyntaxNode>();
        foreach (Diagnostic diagnostic in diagnostics)
        {
            MethodDeclarationSyntax method = Find(root, diagnostic)!;
            targets.Add(method);
            targets.UnionWith(method.Ancestors().OfType<TypeDeclarationSyntax>().Where(t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)));
        }

        return root.ReplaceNodes(targets, static (_, rewritten) => rewritten switch
        {
            MethodDeclarationSyntax method => MakePartialDefinition(method),
            TypeDeclarationSyntax type => SyntaxHelpers.AddPartial(type),
            _ => rewritten,
        });
    }

    private static MethodDeclarationSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<MethodDeclarationSyntax>(root, diagnostic.Location.SourceSpan);

    private static MethodDeclarationSyntax MakePartialDefinition(MethodDeclarationSyntax method)
    {
        if (method.Body is not null || method.ExpressionBody is not null)
        {
            // The body's line ending stays; the space or line break before the body goes.
            SyntaxTriviaList trailing = method.Body?.CloseBraceToken.TrailingTrivia ?? method.SemicolonToken.TrailingTrivia;
            method = method
                .WithBody(null)
                .WithExpressionBody(null)
                .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken).WithTrailingTrivia(trailing));
            SyntaxToken before = method.SemicolonToken.GetPreviousToken();
            method = method.ReplaceToken(before, before.WithTrailingTrivia(SyntaxTriviaList.Empty));
        }

        // A partial definition cannot be async; 'partial' goes right before the return type.
        method = (MethodDeclarationSyntax)SyntaxHelpers.RemoveModifiers(method, SyntaxKind.AsyncKeyword);
        if (method.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return method;
        }

        TypeSyntax returnType = method.ReturnType;
        SyntaxToken partial = SyntaxFactory.Token(returnType.GetLeadingTrivia(), SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
        return method
            .WithReturnType(returnType.WithLeadingTrivia(SyntaxTriviaList.Empty))
            .WithModifiers(method.Modifiers.Add(partial));
    }
}
