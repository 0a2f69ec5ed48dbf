using System;
using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;

namespace DbCore.Infrastructure;

/// <summary>Small text helpers for the verifier: literals and comments out, name parts.</summary>
internal static class SqlScan
{
    /// <summary>The SQL with string literals blanked and comments removed (quoted identifiers kept).</summary>
    public static string WithoutLiteralsAndComments(string sql)
    {
        var text = new StringBuilder(sql.Length);
        for (int i = 0; i < sql.Length; i++)
        {
            char c = sql[i];
            if (c == '\'')
            {
                text.Append(' ');
                for (i++; i < sql.Length; i++)
                {
                    if (sql[i] == '\'')
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == '\'')
                        {
                            i++;
                            continue;
                        }

                        break;
                    }
                }
            }
            else if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n')
                {
                    i++;
                }

                text.Append(' ');
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                int end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? sql.Length : end + 1;
                text.Append(' ');
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary><c>public."Todos"</c> → <c>Todos</c>; <c>todos</c> → <c>todos</c>.</summary>
    public static string LastNamePart(string name)
    {
        int dot = name.LastIndexOf('.');
        string last = (dot >= 0 ? name.Substring(dot + 1) : name).Trim();
        return last.Length >= 2 && last[0] == '"' && last[^1] == '"' ? last.Substring(1, last.Length - 2) : last;
    }
}

/// <summary>
/// Which tables of a statement are on the nullable side of an outer join, by a conservative text scan: the table of a
/// <c>LEFT JOIN</c>; every table but the joined one for a <c>RIGHT JOIN</c>; every table for a <c>FULL JOIN</c> or an outer
/// join of a subquery. Names are compared case-insensitively, without schema, so a table joined twice counts as nullable.
/// </summary>
internal sealed partial class OuterJoins
{
    private readonly HashSet<string> _nullable = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _rightTargets = new(StringComparer.OrdinalIgnoreCase);
    private bool _all;
    private bool _right;

    public static OuterJoins Scan(string sql)
    {
        var joins = new OuterJoins();
        foreach (Match match in OuterJoin().Matches(SqlScan.WithoutLiteralsAndComments(sql)))
        {
            string kind = match.Groups["kind"].Value.ToUpperInvariant();
            string target = match.Groups["target"].Value;
            bool subquery = target == "(";
            if (kind == "FULL" || subquery)
            {
                joins._all = true;
            }
            else if (kind == "RIGHT")
            {
                joins._right = true;
                joins._rightTargets.Add(SqlScan.LastNamePart(target));
            }
            else
            {
                joins._nullable.Add(SqlScan.LastNamePart(target));
            }
        }

        return joins;
    }

    public bool IsNullableSide(string table)
        => _all || _nullable.Contains(table) || (_right && !_rightTargets.Contains(table));

    [GeneratedRegex(@"\b(?<kind>LEFT|RIGHT|FULL)(?:\s+OUTER)?\s+JOIN\s+(?:LATERAL\s+)?(?<target>\(|(?:""[^""]+""|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:""[^""]+""|[A-Za-z_][\w$]*))?)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex OuterJoin();
}
