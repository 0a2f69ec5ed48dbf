using System;
using System.Collections.Generic;
using System.Text;

namespace DbCore.Generators.Parsing;

/// <summary>A <c>@name</c> placeholder in a query's SQL.</summary>
/// <param name="Name">The name, without <c>@</c>.</param>
/// <param name="Start">Offset of the <c>@</c> in the SQL.</param>
/// <param name="Length">Length including the <c>@</c>.</param>
internal readonly record struct SqlPlaceholder(string Name, int Start, int Length);

/// <summary>A piece of a query's SQL: where it starts and how long it is.</summary>
/// <param name="Start">Offset in the SQL.</param>
/// <param name="Length">Length in characters.</param>
internal readonly record struct SqlSpan(int Start, int Length);

/// <summary>A column of the result whose name the SQL text tells.</summary>
/// <param name="Name">The name as written (alias or column name, quotes removed).</param>
/// <param name="Span">Where the name stands in the SQL.</param>
internal readonly record struct SqlColumn(string Name, SqlSpan Span);

/// <summary>What the generator reads from a query's SQL without a database: placeholders, statements, the select list.</summary>
/// <remarks>
/// A small lexer that knows what is not SQL code: string literals (<c>'..'</c> with <c>''</c>, <c>E'..'</c> with
/// backslash escapes), quoted identifiers, <c>--</c> and nested <c>/* */</c> comments and dollar quoting. A <c>@</c>
/// followed by an identifier is a placeholder unless it continues an operator (<c>&lt;@</c>, <c>@@</c>).
/// </remarks>
internal sealed class SqlText
{
    private readonly string _sql;

    private SqlText(string sql) => _sql = sql;

    /// <summary>The placeholders, in order of appearance.</summary>
    public List<SqlPlaceholder> Placeholders { get; } = new();

    /// <summary>PostgreSQL's positional placeholders written in the SQL (<c>$1</c>), outside literals and comments: DBC0116.</summary>
    public List<SqlPlaceholder> PositionalPlaceholders { get; } = new();

    /// <summary>How many statements (top-level semicolons that end a non-empty statement, plus a last one).</summary>
    public int StatementCount { get; private set; }

    /// <summary>Tokens of the code (not literals or comments), upper-cased words and single punctuation; strings as "'".</summary>
    private readonly List<Token> _tokens = new();

    private readonly record struct Token(string Text, bool IsWord, bool IsQuotedIdentifier, int Depth, int Start, int Length, string? Original = null)
    {
        public SqlSpan Span => new(Start, Length);

        /// <summary>The word as written (not upper-cased).</summary>
        public string Name => Original ?? Text;
    }

    /// <summary>The first word of the code, upper-cased (<c>SELECT</c>, <c>INSERT</c>, <c>WITH</c>), or null.</summary>
    public string? FirstKeyword => _tokens.Count > 0 && _tokens[0].IsWord ? _tokens[0].Text : null;

    /// <summary>
    /// Lexed texts by SQL string instance. A query's SQL is the constant of its attribute, whose string Roslyn keeps with the
    /// syntax tree, so after a keystroke elsewhere the same instance comes back and is not lexed again (the transform of every
    /// [Query] method runs on each new compilation). Held weakly: a text lives as long as its string.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<string, SqlText> s_parsed = new();

    /// <summary>The lexed <paramref name="sql"/>; the result is shared and must not be changed (nothing here changes it after lexing).</summary>
    public static SqlText Parse(string sql) => s_parsed.GetValue(sql, static text => Lex(text));

    private static SqlText Lex(string sql)
    {
        var text = new SqlText(sql);
        text.Lex();
        return text;
    }

    /// <summary>
    /// The SQL with every placeholder replaced by <c>$n</c> (the same name gets the same number, numbered in order of
    /// first appearance), and the names in that order: PostgreSQL's own positional parameters, which Npgsql sends
    /// without rewriting the SQL.
    /// </summary>
    public (string Sql, List<string> Order) ToPositional()
    {
        // Remembered: the text is shared across compilations (see Parse); a race computes the same value twice.
        Tuple<string, List<string>> positional = _positional ??= ComputePositional();
        return (positional.Item1, positional.Item2);
    }

    private Tuple<string, List<string>>? _positional;

    private Tuple<string, List<string>> ComputePositional()
    {
        var order = new List<string>();
        var builder = new StringBuilder(_sql.Length);
        int last = 0;
        foreach (SqlPlaceholder placeholder in Placeholders)
        {
            int index = order.FindIndex(n => n == placeholder.Name);
            if (index < 0)
            {
                order.Add(placeholder.Name);
                index = order.Count - 1;
            }

            builder.Append(_sql, last, placeholder.Start - last).Append('$').Append(index + 1);
            last = placeholder.Start + placeholder.Length;
        }

        builder.Append(_sql, last, _sql.Length - last);
        return Tuple.Create(builder.ToString(), order);
    }

    /// <summary>The first <c>*</c> or <c>t.*</c> item of the select list (or RETURNING list), or null when there is none.</summary>
    public SqlSpan? Star()
    {
        List<List<Token>>? items = ResultItems();
        if (items is null)
        {
            return null;
        }

        foreach (List<Token> item in items)
        {
            if (item.Count > 0 && item[item.Count - 1].Text == "*" && (item.Count == 1 || item[item.Count - 2].Text == "."))
            {
                Token first = item[0];
                Token last = item[item.Count - 1];
                return new SqlSpan(first.Start, last.Start + last.Length - first.Start);
            }
        }

        return null;
    }

    /// <summary>
    /// The result's columns when their names can be read from the text alone (one statement; a plain SELECT list or a
    /// RETURNING list of column references and <c>AS</c> aliases, no <c>*</c>); else <see langword="null"/>.
    /// </summary>
    public List<SqlColumn>? ResultColumns()
    {
        // Remembered (shared text, see Parse): callers only read the list.
        return (_resultColumns ??= new Tuple<List<SqlColumn>?>(ComputeResultColumns())).Item1;
    }

    private Tuple<List<SqlColumn>?>? _resultColumns;

    private List<SqlColumn>? ComputeResultColumns()
    {
        List<List<Token>>? items = ResultItems();
        if (items is null)
        {
            return null;
        }

        var columns = new List<SqlColumn>();
        foreach (List<Token> item in items)
        {
            if (ItemName(item) is not { } name)
            {
                return null;
            }

            columns.Add(new SqlColumn(name.Name, name.Span));
        }

        return columns;
    }

    /// <summary>Where the select list (or RETURNING list) stands, from its first item to its last; null when it is not readable.</summary>
    public SqlSpan? ResultListSpan()
    {
        if (ResultItems() is not { } items)
        {
            return null;
        }

        Token first = items[0][0];
        List<Token> lastItem = items[items.Count - 1];
        Token last = lastItem[lastItem.Count - 1];
        return new SqlSpan(first.Start, last.Start + last.Length - first.Start);
    }

    /// <summary>The token that names the item's column (the alias or the column name), or null when the text does not tell.</summary>
    private static Token? ItemName(List<Token> item)
    {
        int n = item.Count;
        if (n == 0)
        {
            return null;
        }

        Token last = item[n - 1];
        if (!last.IsWord && !last.IsQuotedIdentifier)
        {
            return null;
        }

        if (n >= 2 && item[n - 2].IsWord && item[n - 2].Text == "AS")
        {
            return last;
        }

        // A column reference: name or qualifier.name (qualifier.qualifier.name).
        bool reference = true;
        for (int i = 0; i < n; i++)
        {
            bool expectName = i % 2 == 0;
            Token token = item[i];
            if (expectName ? !(token.IsWord || token.IsQuotedIdentifier) : token.Text != ".")
            {
                reference = false;
                break;
            }
        }

        if (reference && n % 2 == 1 && !IsReserved(last))
        {
            return last;
        }

        // An expression in parentheses followed by an alias: count(*) n.
        if (n >= 2 && item[n - 2].Text == ")" && !IsReserved(last))
        {
            return last;
        }

        return null;
    }

    /// <summary>A keyword that is a value or part of an expression, never a column name (a quoted identifier never is one).</summary>
    private static bool IsReserved(Token token)
        => token.IsWord && token.Text is "NULL" or "TRUE" or "FALSE" or "DISTINCT" or "ALL" or "CASE" or "END" or "NOT";

    /// <summary>
    /// The items of the select list or RETURNING list, each as its depth-0 tokens; null when not readable. Remembered (shared
    /// text, see <see cref="Parse"/>): <see cref="Star"/>, <see cref="ResultColumns"/> and <see cref="ResultListSpan"/> read it
    /// for every [Query] method on each new compilation.
    /// </summary>
    private List<List<Token>>? ResultItems() => (_resultItems ??= new Tuple<List<List<Token>>?>(ComputeResultItems())).Item1;

    private Tuple<List<List<Token>>?>? _resultItems;

    private List<List<Token>>? ComputeResultItems()
    {
        if (StatementCount != 1 || _tokens.Count == 0)
        {
            return null;
        }

        int start;
        if (_tokens[0].IsWord && _tokens[0].Text == "SELECT")
        {
            start = 1;
            if (start < _tokens.Count && _tokens[start].IsWord && _tokens[start].Text == "ALL")
            {
                start++;
            }
            else if (start < _tokens.Count && _tokens[start].IsWord && _tokens[start].Text == "DISTINCT")
            {
                start++;
                if (start < _tokens.Count && _tokens[start].IsWord && _tokens[start].Text == "ON")
                {
                    return null;
                }
            }
        }
        else if (_tokens[0].IsWord && _tokens[0].Text is "INSERT" or "UPDATE" or "DELETE")
        {
            start = _tokens.FindIndex(t => t.Depth == 0 && t.IsWord && t.Text == "RETURNING");
            if (start < 0)
            {
                return null;
            }

            start++;
        }
        else
        {
            return null;
        }

        var items = new List<List<Token>>();
        var current = new List<Token>();
        for (int i = start; i < _tokens.Count; i++)
        {
            Token token = _tokens[i];
            if (token.Depth == 0 && token.IsWord && token.Text is "FROM" or "WHERE" or "GROUP" or "ORDER" or "LIMIT" or "OFFSET"
                or "UNION" or "INTERSECT" or "EXCEPT" or "INTO" or "HAVING" or "WINDOW" or "FETCH" or "FOR")
            {
                break;
            }

            if (token.Depth == 0 && token.Text == ";")
            {
                break;
            }

            if (token.Depth == 0 && token.Text == ",")
            {
                items.Add(current);
                current = new List<Token>();
                continue;
            }

            if (token.Depth == 0 || (token.Depth == 1 && token.Text == ")"))
            {
                current.Add(token);
            }
            else if (token.Depth == 1 && token.Text == "(")
            {
                current.Add(token);
            }
        }

        items.Add(current);
        return items.Exists(i => i.Count == 0) ? null : items;
    }

    private void Lex()
    {
        string s = _sql;
        int depth = 0;
        bool statementHasCode = false;
        int statements = 0;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c == '-' && At(i + 1) == '-')
            {
                while (i < s.Length && s[i] != '\n')
                {
                    i++;
                }

                continue;
            }

            if (c == '/' && At(i + 1) == '*')
            {
                int nesting = 1;
                i += 2;
                while (i < s.Length && nesting > 0)
                {
                    if (s[i] == '/' && At(i + 1) == '*')
                    {
                        nesting++;
                        i += 2;
                    }
                    else if (s[i] == '*' && At(i + 1) == '/')
                    {
                        nesting--;
                        i += 2;
                    }
                    else
                    {
                        i++;
                    }
                }

                continue;
            }

            statementHasCode |= c != ';';
            if (c == '\'')
            {
                bool backslashEscapes = i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') && (i < 2 || !IsIdentifierPart(s[i - 2]));
                int end = SkipQuoted(i, '\'', backslashEscapes, out _);
                _tokens.Add(new Token("'", false, false, depth, i, end - i));
                i = end;
                continue;
            }

            if (c == '"')
            {
                // An unterminated identifier runs to the end of the text (and has no closing quote to drop).
                int end = SkipQuoted(i, '"', false, out bool closed);
                int length = end - i - (closed ? 2 : 1);
                _tokens.Add(new Token(s.Substring(i + 1, length).Replace("\"\"", "\""), false, true, depth, i, end - i));
                i = end;
                continue;
            }

            if (c == '$' && DollarTag(i) is { } tag)
            {
                int close = s.IndexOf(tag, i + tag.Length, System.StringComparison.Ordinal);
                int end = close < 0 ? s.Length : close + tag.Length;
                _tokens.Add(new Token("'", false, false, depth, i, end - i));
                i = end;
                continue;
            }

            if (c == '$' && i + 1 < s.Length && s[i + 1] >= '0' && s[i + 1] <= '9' && (i == 0 || !IsIdentifierPart(s[i - 1])))
            {
                int end = i + 1;
                while (end < s.Length && s[end] >= '0' && s[end] <= '9')
                {
                    end++;
                }

                PositionalPlaceholders.Add(new SqlPlaceholder(s.Substring(i, end - i), i, end - i));
                _tokens.Add(new Token("?", false, false, depth, i, end - i));
                i = end;
                continue;
            }

            // Not a placeholder right after '<', '@' or '^': PostgreSQL's operators that end in '@' (<@, @@, ^@). After any
            // other character it is one, as Npgsql's own rewrite and SQLite take it ('%'||@q||'%' binds q).
            if (c == '@' && i + 1 < s.Length && IsIdentifierStart(s[i + 1]) && (i == 0 || "<@^".IndexOf(s[i - 1]) < 0))
            {
                int end = i + 1;
                while (end < s.Length && IsIdentifierPart(s[end]))
                {
                    end++;
                }

                Placeholders.Add(new SqlPlaceholder(s.Substring(i + 1, end - i - 1), i, end - i));
                _tokens.Add(new Token("?", false, false, depth, i, end - i));
                i = end;
                continue;
            }

            if (IsIdentifierStart(c))
            {
                int end = i;
                while (end < s.Length && (IsIdentifierPart(s[end]) || s[end] == '$'))
                {
                    end++;
                }

                _tokens.Add(new Token(s.Substring(i, end - i).ToUpperInvariant(), true, false, depth, i, end - i, s.Substring(i, end - i)));
                i = end;
                continue;
            }

            if (c == '(')
            {
                depth++;
                _tokens.Add(new Token("(", false, false, depth, i, 1));
            }
            else if (c == ')')
            {
                _tokens.Add(new Token(")", false, false, depth, i, 1));
                depth = depth > 0 ? depth - 1 : 0;
            }
            else if (c == ';' && depth == 0)
            {
                if (statementHasCode)
                {
                    statements++;
                }

                statementHasCode = false;
                _tokens.Add(new Token(";", false, false, depth, i, 1));
            }
            else
            {
                _tokens.Add(new Token(c.ToString(), false, false, depth, i, 1));
            }

            i++;
        }

        if (statementHasCode)
        {
            statements++;
        }

        StatementCount = statements;
    }

    private char At(int index) => index < _sql.Length ? _sql[index] : '\0';

    /// <summary>The offset after the quoted text starting at <paramref name="start"/>; the end of the SQL when it is not closed.</summary>
    private int SkipQuoted(int start, char quote, bool backslashEscapes, out bool closed)
    {
        closed = true;
        int i = start + 1;
        while (i < _sql.Length)
        {
            char c = _sql[i];
            if (backslashEscapes && c == '\\')
            {
                i += 2;
                continue;
            }

            if (c == quote)
            {
                if (At(i + 1) == quote)
                {
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            i++;
        }

        closed = false;
        return _sql.Length;
    }

    /// <summary>The dollar-quote tag starting at <paramref name="start"/> (<c>$$</c> or <c>$tag$</c>), or null (<c>$1</c>).</summary>
    private string? DollarTag(int start)
    {
        if (start > 0 && IsIdentifierPart(_sql[start - 1]))
        {
            return null;
        }

        int i = start + 1;
        if (i < _sql.Length && char.IsDigit(_sql[i]))
        {
            return null;
        }

        while (i < _sql.Length && IsIdentifierPart(_sql[i]))
        {
            i++;
        }

        return i < _sql.Length && _sql[i] == '$' ? _sql.Substring(start, i - start + 1) : null;
    }

    private static bool IsIdentifierStart(char c) => char.IsLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsLetterOrDigit(c) || c == '_';
}
