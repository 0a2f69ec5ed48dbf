#nullable enable

// Redaction: masking passwords in the keyword and URL forms, and telling which keywords, fragments and query
// parameters may hold a secret (never echoed in an error message).
// Part of ConnectionStringParser (see ConnectionStringParser.cs). Like every ConnectionStringParser*.cs file it is
// compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators (netstandard2.0). Keep it free
// of provider types and of APIs missing on netstandard2.0.

using System;
using System.Data.Common;
using System.Text;

namespace DbCore.ConnectionStrings
{
    internal static partial class ConnectionStringParser
    {
        internal const string UnparsableRedaction = "(unparsable connection string)";
        private const string Mask = "***";

        private static string RedactKeywordForm(string text)
        {
            if (!TryTokenize(text, out var pairs))
            {
                return UnparsableRedaction;
            }

            var output = new StringBuilder();
            var previousWasPassword = false;
            foreach (var pair in pairs)
            {
                var known = PostgreSqlMap.ContainsKey(pair.Key) || SqliteMap.ContainsKey(pair.Key);
                var isPassword = IsPasswordKeyword(pair.Key);
                var key = OriginalSpelling(text, pair.Key);
                var value = pair.Value;
                if (isPassword)
                {
                    value = value.Length == 0 ? value : Mask;
                }
                else if (!known)
                {
                    // Unknown keyword: its value may be anything, and right after a password the "keyword" is
                    // probably the rest of a password that contains ';'.
                    value = Mask;
                    if (previousWasPassword || FollowsPasswordSegment(text, pair.Key))
                    {
                        key = Mask;
                    }
                }

                if (output.Length > 0)
                {
                    output.Append(';');
                }

                DbConnectionStringBuilder.AppendKeyValuePair(output, key, value);
                previousWasPassword = isPassword;
            }

            return output.ToString();
        }

        private static string RedactUrl(string scheme, string rest)
        {
            SplitUserInfo(rest, out var userInfo, out var hostPart);
            var output = new StringBuilder(scheme).Append("://");
            if (userInfo is not null)
            {
                var colon = userInfo.IndexOf(':');
                if (colon >= 0)
                {
                    output.Append(userInfo, 0, colon).Append(':').Append(Mask);
                }
                else
                {
                    output.Append(userInfo);
                }

                output.Append('@');
            }

            var queryStart = hostPart.IndexOf('?');
            if (queryStart < 0)
            {
                return output.Append(hostPart).ToString();
            }

            output.Append(hostPart, 0, queryStart + 1);
            var segments = hostPart.Substring(queryStart + 1).Split(QuerySeparators);
            for (var i = 0; i < segments.Length; i++)
            {
                if (i > 0)
                {
                    output.Append('&');
                }

                var segment = segments[i];
                var equals = segment.IndexOf('=');
                if (equals >= 0)
                {
                    var name = segment.Substring(0, equals);
                    if (!TryPercentDecode(name, plusIsSpace: true, out var decodedName) || LooksSecret(decodedName))
                    {
                        output.Append(name).Append('=').Append(Mask);
                        continue;
                    }
                }

                output.Append(segment);
            }

            return output.ToString();
        }

        private static bool LooksSecret(string name)
        {
            var squashed = Squash(name);
            return squashed.IndexOf("pass", StringComparison.Ordinal) >= 0 ||
                   squashed.IndexOf("pwd", StringComparison.Ordinal) >= 0 ||
                   squashed.IndexOf("psw", StringComparison.Ordinal) >= 0 ||
                   squashed.IndexOf("secret", StringComparison.Ordinal) >= 0 ||
                   squashed.IndexOf("token", StringComparison.Ordinal) >= 0;
        }

        /// <summary>
        /// Whether <paramref name="key"/> is written right after a password segment in <paramref name="text"/>, so it may be
        /// the rest of a password containing ';'. Read from the text, not from the tokenized pairs: the tokenizer drops a
        /// segment with an empty value ("Password=;x=y"), and the pair before would then be another keyword.
        /// </summary>
        private static bool FollowsPasswordSegment(string text, string key)
        {
            foreach (var (_, separator) in KeywordOccurrences(text, key))
            {
                if (separator <= 0)
                {
                    continue;
                }

                var start = text.LastIndexOf(';', separator - 1) + 1;
                var equals = text.IndexOf('=', start, separator - start);
                if (equals > start && IsPasswordKeyword(text.Substring(start, equals - start).Trim()))
                {
                    return true;
                }
            }

            return false;
        }

        private static bool IsPasswordKeyword(string key)
        {
            if (PostgreSqlMap.TryGetValue(key, out var pg))
            {
                return pg == CanonicalPassword || pg == CanonicalSslPassword;
            }

            if (SqliteMap.TryGetValue(key, out var sqlite))
            {
                return sqlite == CanonicalPassword;
            }

            var squashed = Squash(key);
            if (squashed.IndexOf("pass", StringComparison.Ordinal) >= 0 ||
                squashed.IndexOf("pwd", StringComparison.Ordinal) >= 0 ||
                squashed.IndexOf("psw", StringComparison.Ordinal) >= 0)
            {
                return true;
            }

            var suggestion = SuggestKeyword(key, ConnectionStringKind.Unknown);
            return suggestion == CanonicalPassword || suggestion == CanonicalSslPassword;
        }

        // A keyword is short words separated by spaces ("User Id", "SSL Mode"). Anything else, or a password word
        // followed by more text ("Password s3cret", "PasswordS3cret" from a lost '='), may hold a secret: never quote it.
        private static bool MayHoldSecret(string keyword)
        {
            if (keyword.Length > 40)
            {
                return true;
            }

            var words = keyword.Split(' ');
            foreach (var word in words)
            {
                if (word.Length == 0)
                {
                    continue;
                }

                if (Echo(word).Length == 0)
                {
                    return true;
                }

                var squashed = Squash(word);
                var passwordWord = squashed.IndexOf("pass", StringComparison.Ordinal) >= 0 ||
                                   squashed.IndexOf("pwd", StringComparison.Ordinal) >= 0 ||
                                   squashed.IndexOf("psw", StringComparison.Ordinal) >= 0;
                if (passwordWord && (words.Length > 1 || squashed.Length > "password".Length + 2))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
