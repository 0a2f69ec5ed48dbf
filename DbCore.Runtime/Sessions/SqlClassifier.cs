using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace DbCore;

/// <summary>
/// Decides whether a command is a plain read that may run before the session's transaction begins (the PostgreSQL read
/// path, see docs/sessions.md). Conservative: anything it cannot prove to be a single read statement is not one, which only
/// costs the BEGIN a read would have avoided, never atomicity.
/// </summary>
/// <remarks>
/// A read is one statement whose first keyword is <c>SELECT</c>, <c>WITH</c>, <c>VALUES</c>, <c>TABLE</c> or <c>SHOW</c>,
/// and that contains none of the keywords <c>INSERT</c>, <c>UPDATE</c>, <c>DELETE</c>, <c>MERGE</c>, <c>INTO</c>
/// (<c>SELECT INTO</c> creates a table), <c>FOR</c> (locking clauses need the transaction to hold the lock),
/// <c>NEXTVAL</c>, <c>SETVAL</c>, <c>LOCK</c> or <c>COPY</c>, outside string literals, quoted identifiers, dollar quotes
/// and comments. A function that writes, called from a SELECT, cannot be seen: begin the transaction first (access
/// <see cref="DbSession.Transaction"/>) for such a statement.
/// </remarks>
internal static class SqlClassifier
{
    private static readonly string[] ReadStarts = ["SELECT", "WITH", "VALUES", "TABLE", "SHOW"];

    private static readonly string[] WriteWords =
    [
        "INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "FOR", "NEXTVAL", "SETVAL", "LOCK", "COPY",
        // Functions whose effect belongs to the transaction: transaction-local settings (row-level security), advisory
        // transaction locks, notifications, large objects.
        "SET_CONFIG", "PG_NOTIFY", "PG_ADVISORY_XACT_LOCK", "PG_ADVISORY_XACT_LOCK_SHARED", "PG_TRY_ADVISORY_XACT_LOCK",
        "PG_TRY_ADVISORY_XACT_LOCK_SHARED", "PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK",
        "PG_TRY_ADVISORY_LOCK_SHARED",
    ];

    /// <summary>Large-object functions (lo_create, lo_unlink, lo_put, lo_import, ...) write.</summary>
    private const string LargeObjectPrefix = "LO_";

    /// <summary>
    /// SQL text instances found to be reads, by identity: a query's SQL is usually one constant string (a generated query
    /// method's const, a literal), so its classification is remembered instead of scanning it on every command. A string
    /// never changes, so an entry can only be right or absent; a collision overwrites, costing one more scan.
    /// </summary>
    private static readonly string?[] KnownReads = new string?[256];

    public static bool IsRead(string? sql)
    {
        if (sql is null)
        {
            return false;
        }

        ref string? known = ref KnownReads[RuntimeHelpers.GetHashCode(sql) & (KnownReads.Length - 1)];
        if (ReferenceEquals(Volatile.Read(ref known), sql))
        {
            return true;
        }

        if (!Classify(sql))
        {
            return false;
        }

        Volatile.Write(ref known, sql);
        return true;
    }

    /// <summary>
    /// How many statements <paramref name="sql"/> holds: 0 (whitespace, comments and semicolons only, which the server
    /// answers as an empty query even in an aborted transaction), 1, or 2 for several or for a text it cannot follow (an
    /// unterminated quote or comment). Npgsql's batch commands take one statement each.
    /// </summary>
    public static int CountStatements(string? sql)
    {
        if (sql is null)
        {
            return 0;
        }

        int count = 0;
        bool inStatement = false;
        int i = 0;
        while (true)
        {
            if (!SkipTrivia(sql, ref i))
            {
                return 2;
            }

            if (i >= sql.Length)
            {
                break;
            }

            char c = sql[i];
            if (c == ';')
            {
                count += inStatement ? 1 : 0;
                inStatement = false;
                i++;
                continue;
            }

            if (!inStatement && count > 0)
            {
                return 2; // a second statement begins
            }

            inStatement = true;
            if (c is '\'' or '"')
            {
                if (!SkipQuoted(sql, ref i, c))
                {
                    return 2;
                }
            }
            else if (c == '$' && TryDollarTag(sql, i, out string tag))
            {
                int close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0)
                {
                    return 2;
                }

                i = close + tag.Length;
            }
            else
            {
                i++;
            }
        }

        return Math.Min(count + (inStatement ? 1 : 0), 2);
    }

    private static bool Classify(string sql)
    {
        if (sql.Length == 0)
        {
            return false;
        }

        bool first = true;
        bool ended = false; // a ';' was seen: only whitespace and comments may follow
        int i = 0;
        while (true)
        {
            if (!SkipTrivia(sql, ref i))
            {
                return false;
            }

            if (i >= sql.Length)
            {
                break;
            }

            char c = sql[i];
            if (ended)
            {
                return false; // a second statement
            }
            else if (c == ';')
            {
                ended = true;
                i++;
            }
            else if (c == '\'')
            {
                if (!SkipQuoted(sql, ref i, c))
                {
                    return false;
                }
            }
            else if (c == '"')
            {
                // A quoted identifier is a word too: "nextval"('s') calls nextval.
                int start = i + 1;
                if (!SkipQuoted(sql, ref i, c))
                {
                    return false;
                }

                // A quoted name followed by "(" is a function call: "nextval"('s') calls nextval; "update" alone is a column.
                if (first || (IsWriteWord(sql.AsSpan(start, i - 1 - start)) && NextIsOpenParenthesis(sql, i)))
                {
                    return false;
                }
            }
            else if (c == '$' && TryDollarTag(sql, i, out string tag))
            {
                int close = sql.IndexOf(tag, i + tag.Length, StringComparison.Ordinal);
                if (close < 0)
                {
                    return false;
                }

                i = close + tag.Length;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                int start = i;
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] is '_' or '$'))
                {
                    i++;
                }

                ReadOnlySpan<char> word = sql.AsSpan(start, i - start);
                if (first)
                {
                    if (!IsOneOf(word, ReadStarts))
                    {
                        return false;
                    }

                    first = false;
                }
                else if (IsWriteWord(word))
                {
                    return false;
                }
            }
            else
            {
                if (first)
                {
                    return false; // e.g. "(SELECT ...)" or a psql meta-command: not worth proving
                }

                i++;
            }
        }

        return !first;
    }

    private static readonly char[] LineEnds = ['\n', '\r'];

    /// <summary>Skips whitespace and comments from <paramref name="i"/>; false for an unterminated block comment.</summary>
    private static bool SkipTrivia(string sql, ref int i)
    {
        while (i < sql.Length)
        {
            char c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '-' && At(sql, i + 1, '-'))
            {
                // PostgreSQL ends a line comment at \n or \r.
                int end = sql.IndexOfAny(LineEnds, i);
                i = end < 0 ? sql.Length : end + 1;
            }
            else if (c == '/' && At(sql, i + 1, '*'))
            {
                if (!SkipBlockComment(sql, ref i))
                {
                    return false;
                }
            }
            else
            {
                return true;
            }
        }

        return true;
    }

    private static bool At(string sql, int index, char c) => index < sql.Length && sql[index] == c;

    private static bool NextIsOpenParenthesis(string sql, int i)
    {
        while (i < sql.Length && char.IsWhiteSpace(sql[i]))
        {
            i++;
        }

        return i < sql.Length && sql[i] == '(';
    }

    private static bool IsWriteWord(ReadOnlySpan<char> word)
        => IsOneOf(word, WriteWords) || word.StartsWith(LargeObjectPrefix, StringComparison.OrdinalIgnoreCase);

    private static bool IsOneOf(ReadOnlySpan<char> word, string[] words)
    {
        foreach (string candidate in words)
        {
            if (word.Equals(candidate, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SkipBlockComment(string sql, ref int i)
    {
        // PostgreSQL block comments nest.
        int depth = 0;
        while (i < sql.Length)
        {
            if (sql[i] == '/' && At(sql, i + 1, '*'))
            {
                depth++;
                i += 2;
            }
            else if (sql[i] == '*' && At(sql, i + 1, '/'))
            {
                depth--;
                i += 2;
                if (depth == 0)
                {
                    return true;
                }
            }
            else
            {
                i++;
            }
        }

        return false;
    }

    private static bool SkipQuoted(string sql, ref int i, char quote)
    {
        // 'it''s' and "a""b": a doubled quote stays inside. E'\'' escapes are treated conservatively by the same rule:
        // an unbalanced literal makes the statement "not a read".
        i++;
        while (i < sql.Length)
        {
            if (sql[i] == quote)
            {
                if (At(sql, i + 1, quote))
                {
                    i += 2;
                    continue;
                }

                i++;
                return true;
            }

            if (sql[i] == '\\' && quote == '\'')
            {
                return false; // backslash escapes (E'...'): do not try to be clever
            }

            i++;
        }

        return false;
    }

    private static bool IsAsciiLetter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');

    /// <summary>
    /// A dollar-quote opening tag ($$ or $tag$) at <paramref name="i"/>, with PostgreSQL's tag characters (letters, '_', any
    /// non-ASCII character, digits after the first); not a positional parameter ($1).
    /// </summary>
    private static bool TryDollarTag(string sql, int i, out string tag)
    {
        int j = i + 1;
        while (j < sql.Length && (IsAsciiLetter(sql[j]) || sql[j] == '_' || sql[j] >= '\u0080' || (j > i + 1 && char.IsAsciiDigit(sql[j]))))
        {
            j++;
        }

        if (j < sql.Length && sql[j] == '$')
        {
            tag = sql.Substring(i, j - i + 1);
            return true;
        }

        tag = "";
        return false;
    }
}
