using Microsoft.CodeAnalysis.CSharp;

namespace DbCore.Generators.Model;

/// <summary>Identifiers written in code position.</summary>
internal static class Identifier
{
    /// <summary><c>@</c>-escapes a C# keyword (e.g. a property named <c>default</c>); other names stay as they are.</summary>
    public static string Escape(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
