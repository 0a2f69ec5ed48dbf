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

/// <summary>DBC0003: removes the extra <c>[ConnectionString]</c> (the diagnostic is on the second and later ones).</summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(RemoveConnectionStringAttributeCodeFixProvider))]
[Shared]
public sealed class RemoveConnectionStringAttributeCodeFixProvider : SettingsCodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MultipleConnectionStrings);

    /// <inheritdoc/>
    protected override string Title => "Remove the extra [ConnectionString]";

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is { Parent: AttributeListSyntax { Parent: MemberDeclarationSyntax } };

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var remove = new HashSet<AttributeSyntax>(diagnostics.Select(d => Find(root, d)!));
        IEnumerable<MemberDeclarationSyntax> members = remove.Select(a => (MemberDeclarationSyntax)a.Parent!.Parent!).Distinct();
        return root.ReplaceNodes(members, (original, _) => RemoveAttributes(original, remove));
    }

    private static AttributeSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<AttributeSyntax>(root, diagnostic.Location.SourceSpan);

    private static MemberDeclarationSyntax RemoveAttributes(MemberDeclarationSyntax member, HashSet<AttributeSyntax> remove)
    {
        var lists = new List<AttributeListSyntax>();
        SyntaxTriviaList? firstLeading = null;
        for (int i = 0; i < member.AttributeLists.Count; i++)
        {
            AttributeListSyntax list = member.AttributeLists[i];
            SeparatedSyntaxList<AttributeSyntax> kept = list.Attributes;
            for (int j = list.Attributes.Count - 1; j >= 0; j--)
            {
                if (remove.Contains(list.Attributes[j]))
                {
                    kept = kept.RemoveAt(j);
                }
            }

            if (kept.Count == list.Attributes.Count)
            {
                lists.Add(list);
            }
            else if (kept.Count > 0)
            {
                lists.Add(list.WithAttributes(kept));
            }
            else if (i == 0)
            {
                // The removed list carried the member's indentation and comments: hand them to the next first token.
                firstLeading = list.GetLeadingTrivia();
            }
        }

        MemberDeclarationSyntax result = member.WithAttributeLists(SyntaxFactory.List(lists));
        if (firstLeading is { } leading)
        {
            SyntaxToken first = result.GetFirstToken();
            result = result.ReplaceToken(first, first.WithLeadingTrivia(leading));
        }

        return result;
    }
}
