using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DbCore.CodeFixes;

/// <summary>Small trivia-preserving edits the fixes share.</summary>
internal static class SyntaxHelpers
{
    /// <summary>The innermost node of type <typeparamref name="T"/> around the start of <paramref name="span"/>.</summary>
    public static T? FindAncestor<T>(SyntaxNode root, TextSpan span)
        where T : SyntaxNode
        => span.End > root.FullSpan.End ? null : root.FindToken(span.Start).Parent?.AncestorsAndSelf().OfType<T>().FirstOrDefault();

    /// <summary>Removes the modifiers of the given kinds; the leading trivia of a removed first modifier moves to the next token.</summary>
    public static TypeDeclarationSyntax RemoveModifiers(TypeDeclarationSyntax declaration, params SyntaxKind[] kinds)
        => (TypeDeclarationSyntax)RemoveModifiers((MemberDeclarationSyntax)declaration, kinds);

    /// <summary>Removes the modifiers of the given kinds from any member; the leading trivia of a removed first modifier moves to the next token.</summary>
    public static MemberDeclarationSyntax RemoveModifiers(MemberDeclarationSyntax declaration, params SyntaxKind[] kinds)
    {
        SyntaxTokenList modifiers = declaration.Modifiers;
        SyntaxTriviaList carried = default;
        bool carry = false;
        for (int i = modifiers.Count - 1; i >= 0; i--)
        {
            if (kinds.Contains(modifiers[i].Kind()))
            {
                if (i == 0)
                {
                    carried = modifiers[i].LeadingTrivia;
                    carry = true;
                }

                modifiers = modifiers.RemoveAt(i);
            }
        }

        if (!carry)
        {
            return declaration.WithModifiers(modifiers);
        }

        if (modifiers.Count > 0)
        {
            return declaration.WithModifiers(modifiers.Replace(modifiers[0], modifiers[0].WithLeadingTrivia(carried)));
        }

        // No modifier left: the trivia goes to the token after them (the type keyword, a return type, ...).
        MemberDeclarationSyntax stripped = declaration.WithModifiers(modifiers);
        SyntaxToken next = stripped.AttributeLists.Count > 0 ? stripped.AttributeLists.Last().GetLastToken().GetNextToken() : stripped.GetFirstToken();
        return stripped.ReplaceToken(next, next.WithLeadingTrivia(carried));
    }

    /// <summary>Adds <c>partial</c> right before the type keyword (where C# requires it).</summary>
    public static TypeDeclarationSyntax AddPartial(TypeDeclarationSyntax declaration)
    {
        if (declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return declaration;
        }

        SyntaxToken keyword = declaration.Keyword;
        SyntaxToken partial = SyntaxFactory.Token(keyword.LeadingTrivia, SyntaxKind.PartialKeyword, SyntaxFactory.TriviaList(SyntaxFactory.Space));
        return declaration
            .WithKeyword(keyword.WithLeadingTrivia(SyntaxTriviaList.Empty))
            .WithModifiers(declaration.Modifiers.Add(partial));
    }

    /// <summary>The end-of-line sequence the document uses.</summary>
    public static SyntaxTrivia EndOfLine(SyntaxNode root)
        => root.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)) is { } eol && eol.IsKind(SyntaxKind.EndOfLineTrivia)
            ? eol
            : SyntaxFactory.EndOfLine("\n");

    /// <summary>The indentation (the whitespace right before the first token) of <paramref name="node"/>.</summary>
    public static SyntaxTrivia Indentation(SyntaxNode node)
    {
        SyntaxTriviaList leading = node.GetLeadingTrivia();
        return leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia)
            ? leading[leading.Count - 1]
            : SyntaxFactory.Whitespace(string.Empty);
    }
}
