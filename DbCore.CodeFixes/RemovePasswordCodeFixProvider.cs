using DbCore.ConnectionStrings;
using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Text;
using System.Threading;
using DbCore.Generators;
using DbCore.Generators.Diagnostics;
using DbCore.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.CodeFixes;

/// <summary>
/// DBC0009: removes the password from the default connection string literal and leaves a comment above the property that
/// says where the real connection string goes. The literal stays as a password-less default that still works against a
/// local server with trust or peer authentication, or a SQLite file; the deployed value, password included, comes from
/// the environment variable named on <c>[ConnectionString]</c>, <c>ConnectionStrings:{Name}</c> in configuration or user
/// secrets, all of which override the literal (DESIGN §3), so nothing else in the code has to change.
/// </summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(RemovePasswordCodeFixProvider))]
[Shared]
public sealed class RemovePasswordCodeFixProvider : SettingsCodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.PasswordInSource);

    /// <inheritdoc/>
    protected override string Title => "Remove the password from the literal and read it from configuration";

    /// <inheritdoc/>
    protected override bool NeedsSemanticModel => true;

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => Find(root, diagnostic) is { } literal
            && literal.Parent?.Parent is PropertyDeclarationSyntax
            && WithoutPassword(literal.Token.ValueText) is not null;

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var literals = new HashSet<LiteralExpressionSyntax>(diagnostics.Select(d => Find(root, d)!));
        var properties = literals.Select(l => (PropertyDeclarationSyntax)l.Parent!.Parent!).Distinct().ToList();
        SyntaxTrivia endOfLine = SyntaxHelpers.EndOfLine(root);
        return root.ReplaceNodes(properties, (original, rewritten) =>
        {
            var literal = (LiteralExpressionSyntax)rewritten.Initializer!.Value;
            string value = WithoutPassword(literal.Token.ValueText)!;
            SyntaxToken token = literal.Token.Text.StartsWith("@", StringComparison.Ordinal)
                ? SyntaxFactory.Literal("@\"" + value.Replace("\"", "\"\"") + "\"", value)
                : SyntaxFactory.Literal(value);
            rewritten = rewritten.ReplaceNode(literal, literal.WithToken(token.WithTriviaFrom(literal.Token)));

            SyntaxTrivia indentation = SyntaxHelpers.Indentation(original);
            SyntaxTriviaList leading = rewritten.GetLeadingTrivia();
            if (leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia))
            {
                leading = leading.RemoveAt(leading.Count - 1);
            }

            leading = leading.Add(indentation).Add(SyntaxFactory.Comment(Comment(original, model, cancellationToken))).Add(endOfLine).Add(indentation);
            return rewritten.WithLeadingTrivia(leading);
        });
    }

    private static LiteralExpressionSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<LiteralExpressionSyntax>(root, diagnostic.Location.SourceSpan) is { } literal
            && literal.IsKind(SyntaxKind.StringLiteralExpression)
                ? literal
                : null;

    /// <summary>Where the full connection string goes, named with the keys this class really reads.</summary>
    private static string Comment(PropertyDeclarationSyntax property, SemanticModel? model, CancellationToken cancellationToken)
    {
        string? baseName = null;
        string? environmentVariable = null;
        if (model?.GetDeclaredSymbol(property, cancellationToken) is { } symbol)
        {
            foreach (AttributeData attribute in symbol.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == KnownNames.ConnectionStringAttribute)
                {
                    environmentVariable = attribute.NamedArguments.FirstOrDefault(a => a.Key == "EnvironmentVariable").Value.Value as string;
                }
            }

            foreach (AttributeData attribute in symbol.ContainingType.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == KnownNames.DatabaseSettingsAttribute)
                {
                    string? name = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Name").Value.Value as string;
                    baseName = string.IsNullOrWhiteSpace(name) ? SettingsParser.DefaultBaseName(symbol.ContainingType.Name) : name!.Trim();
                }
            }
        }

        string key = "ConnectionStrings:" + (baseName ?? "<Name>");
        string where = string.IsNullOrWhiteSpace(environmentVariable)
            ? $"\"{key}\" in configuration or user secrets"
            : $"the {environmentVariable!.Trim()} environment variable or \"{key}\" in configuration or user secrets";
        return $"// The password was removed from this default (DBC0009). Set the full connection string, password included, in {where}.";
    }

    /// <summary>The literal without its password, or null when that cannot be done safely.</summary>
    internal static string? WithoutPassword(string connectionString)
    {
        string? result = connectionString.IndexOf("://", StringComparison.Ordinal) > 0
            ? UrlWithoutPassword(connectionString)
            : KeywordFormWithoutPassword(connectionString);
        if (result is null)
        {
            return null;
        }

        // The runtime's own parser decides: the result must still parse and hold no password.
        ParsedConnectionString parsed = ConnectionStringParser.Parse(result);
        return parsed.Error is null && !parsed.HasPassword ? result : null;
    }

    private static string? KeywordFormWithoutPassword(string text)
    {
        var kept = new List<string>();
        bool removed = false;
        foreach (string segment in SplitSegments(text))
        {
            int equals = segment.IndexOf('=');
            string keyword = equals < 0 ? string.Empty : segment.Substring(0, equals).Trim();
            if (keyword.Length > 0 && IsPasswordKeyword(keyword))
            {
                removed = true;
                continue;
            }

            if (segment.Trim().Length > 0)
            {
                kept.Add(segment.Trim());
            }
        }

        return removed ? string.Join(";", kept) : null;
    }

    /// <summary>A keyword is a password keyword when the runtime parser says "Keyword=x" holds a password.</summary>
    private static bool IsPasswordKeyword(string keyword)
        => ConnectionStringParser.Parse(keyword + "=x") is { Error: null, HasPassword: true };

    /// <summary>Splits on ';' outside single or double quotes (ADO.NET quoting; a doubled quote is an escaped quote).</summary>
    private static IEnumerable<string> SplitSegments(string text)
    {
        var current = new StringBuilder();
        char quote = '\0';
        bool inValue = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '\0')
            {
                current.Append(c);
                if (c == quote)
                {
                    if (i + 1 < text.Length && text[i + 1] == quote)
                    {
                        current.Append(text[++i]);
                    }
                    else
                    {
                        quote = '\0';
                    }
                }

                continue;
            }

            if (c == ';')
            {
                yield return current.ToString();
                current.Clear();
                inValue = false;
                continue;
            }

            if (c == '=')
            {
                inValue = true;
            }
            else if ((c == '"' || c == '\'') && inValue && current.ToString().Substring(current.ToString().IndexOf('=') + 1).Trim().Length == 0)
            {
                quote = c;
            }

            current.Append(c);
        }

        yield return current.ToString();
    }

    private static string? UrlWithoutPassword(string url)
    {
        int start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        int end = url.IndexOfAny(new[] { '/', '?', '#' }, start);
        string authority = end < 0 ? url.Substring(start) : url.Substring(start, end - start);
        int at = authority.LastIndexOf('@');
        string result = url;
        if (at >= 0)
        {
            int colon = authority.IndexOf(':');
            if (colon >= 0 && colon < at)
            {
                result = url.Substring(0, start) + authority.Substring(0, colon) + authority.Substring(at) + (end < 0 ? string.Empty : url.Substring(end));
            }
        }

        // A password in the query (?password=...) goes too.
        int query = result.IndexOf('?');
        if (query >= 0)
        {
            string[] pairs = result.Substring(query + 1).Split('&');
            string[] kept = pairs.Where(p => !p.StartsWith("password=", StringComparison.OrdinalIgnoreCase)).ToArray();
            if (kept.Length != pairs.Length)
            {
                result = result.Substring(0, query) + (kept.Length == 0 ? string.Empty : "?" + string.Join("&", kept));
            }
        }

        return result == url ? null : result;
    }
}
