using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Text;
using System.Threading;
using DbCore.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DbCore.CodeFixes;

/// <summary>
/// DBC0101: adds an <c>object? name</c> parameter for the placeholder (the generator binds <c>object</c> as is; the user
/// narrows the type). <c>@user_id</c> becomes <c>userId</c>, which binds because names match case- and
/// underscore-insensitively. The parameter goes before the first optional, <c>params</c> or <c>CancellationToken</c>
/// parameter (so optional parameters stay last), else last.
/// </summary>
[ExportCodeFixProvider(Microsoft.CodeAnalysis.LanguageNames.CSharp, Name = nameof(AddQueryParameterCodeFixProvider))]
[Shared]
public sealed class AddQueryParameterCodeFixProvider : SettingsCodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.PlaceholderWithoutParameter);

    /// <inheritdoc/>
    protected override string Title => "Add the parameter";

    /// <inheritdoc/>
    protected override string TitleFor(Diagnostic diagnostic)
        => ParameterName(diagnostic) is { } name ? $"Add parameter '{name}'" : Title;

    /// <inheritdoc/>
    protected override bool NeedsSemanticModel => true;

    /// <inheritdoc/>
    protected override bool CanFix(SyntaxNode root, SemanticModel? model, Diagnostic diagnostic, CancellationToken cancellationToken)
        => ParameterName(diagnostic) is not null && Find(root, diagnostic) is { ParameterList: not null };

    /// <inheritdoc/>
    protected override SyntaxNode Rewrite(SyntaxNode root, SemanticModel? model, IReadOnlyList<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        // Several placeholders of one method (Fix All): each name once, in the order of the diagnostics.
        var names = new Dictionary<MethodDeclarationSyntax, List<string>>();
        foreach (Diagnostic diagnostic in diagnostics.OrderBy(d => d.Location.SourceSpan.Start))
        {
            MethodDeclarationSyntax method = Find(root, diagnostic)!;
            if (!names.TryGetValue(method, out List<string>? list))
            {
                names[method] = list = new List<string>();
            }

            string name = ParameterName(diagnostic)!;
            if (!list.Contains(name))
            {
                list.Add(name);
            }
        }

        return root.ReplaceNodes(names.Keys, (original, rewritten) => AddParameters(rewritten, InsertionIndex(original, model, cancellationToken), names[original]));
    }

    private static MethodDeclarationSyntax? Find(SyntaxNode root, Diagnostic diagnostic)
        => SyntaxHelpers.FindAncestor<MethodDeclarationSyntax>(root, diagnostic.Location.SourceSpan);

    /// <summary>The C# name for the diagnostic's placeholder: camelCase, a keyword escaped with <c>@</c>.</summary>
    private static string? ParameterName(Diagnostic diagnostic)
    {
        if (!diagnostic.Properties.TryGetValue(QueryAnalyzer.PlaceholderNameProperty, out string? placeholder) || string.IsNullOrEmpty(placeholder))
        {
            return null;
        }

        string lowered = placeholder!.ToUpperInvariant() == placeholder ? placeholder.ToLowerInvariant() : placeholder;
        var name = new StringBuilder(lowered.Length);
        foreach (string part in lowered.Split('_'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            name.Append(name.Length == 0 ? char.ToLowerInvariant(part[0]) : char.ToUpperInvariant(part[0])).Append(part, 1, part.Length - 1);
        }

        if (name.Length == 0 || !SyntaxFacts.IsValidIdentifier(name.ToString()))
        {
            return null;
        }

        string text = name.ToString();
        return SyntaxFacts.GetKeywordKind(text) != SyntaxKind.None ? "@" + text : text;
    }

    /// <summary>Before the first optional, params or CancellationToken parameter; else at the end.</summary>
    private static int InsertionIndex(MethodDeclarationSyntax method, SemanticModel? model, CancellationToken cancellationToken)
    {
        SeparatedSyntaxList<ParameterSyntax> parameters = method.ParameterList.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            ParameterSyntax parameter = parameters[i];
            bool token = parameter.Type is { } type && model?.GetTypeInfo(type, cancellationToken).Type?.ToDisplayString() == "System.Threading.CancellationToken";
            if (token || parameter.Default is not null || parameter.Modifiers.Any(SyntaxKind.ParamsKeyword))
            {
                return i;
            }
        }

        return parameters.Count;
    }

    private static MethodDeclarationSyntax AddParameters(MethodDeclarationSyntax method, int index, List<string> names)
    {
        SeparatedSyntaxList<ParameterSyntax> parameters = method.ParameterList.Parameters;
        var nodes = parameters.ToList();
        var separators = Enumerable.Range(0, parameters.SeparatorCount).Select(parameters.GetSeparator).ToList();

        // A new parameter takes the line layout of the one it goes before: its indentation, and after its comma the
        // trivia of the comma before that one (a space, or a line break in a list written one parameter a line).
        SyntaxTriviaList leading = index < nodes.Count ? nodes[index].GetLeadingTrivia() : SyntaxTriviaList.Empty;
        SyntaxTriviaList afterComma = index > 0 && index - 1 < separators.Count ? separators[index - 1].TrailingTrivia : SyntaxFactory.TriviaList(SyntaxFactory.Space);
        for (int i = 0; i < names.Count; i++)
        {
            ParameterSyntax parameter = SyntaxFactory.Parameter(SyntaxFactory.Identifier(names[i]))
                .WithType(SyntaxFactory.NullableType(SyntaxFactory.PredefinedType(SyntaxFactory.Token(SyntaxKind.ObjectKeyword))).WithTrailingTrivia(SyntaxFactory.Space))
                .WithLeadingTrivia(leading);
            SyntaxToken comma = SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(afterComma);
            if (index + i < nodes.Count)
            {
                nodes.Insert(index + i, parameter);
                separators.Insert(index + i, comma);
            }
            else
            {
                if (nodes.Count > 0)
                {
                    separators.Add(comma);
                }

                nodes.Add(parameter);
            }
        }

        return method.WithParameterList(method.ParameterList.WithParameters(SyntaxFactory.SeparatedList(nodes, separators)));
    }
}
