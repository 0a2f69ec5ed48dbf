#nullable enable

// The ADO.NET keyword form ('Keyword=value;...'): tokenizing, telling the provider from the keywords, the
// unknown-keyword error and the canonical spellings.
// Part of ConnectionStringParser (see ConnectionStringParser.cs). Like every ConnectionStringParser*.cs file it is
// compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators (netstandard2.0). Keep it free
// of provider types and of APIs missing on netstandard2.0.

using System;
using System.Collections.Generic;
using System.Data.Common;
using System.Globalization;

namespace DbCore.ConnectionStrings
{
    internal static partial class ConnectionStringParser
    {
        private static ParsedConnectionString ParseKeywordForm(string text)
        {
            if (!TryTokenize(text, out var pairs))
            {
                return ParsedConnectionString.Failure(
                    "The connection string is malformed. Write 'Keyword=value' pairs separated by ';' and enclose " +
                    "values that contain ';', '=' or quotes in double quotes (doubling any inner double quote), " +
                    "e.g. Password=\"a;b\". Check for an unterminated quote or a segment without '='.");
            }

            if (pairs.Count == 0)
            {
                return Parse(null);
            }

            var pgExclusive = new List<string>();
            var sqliteExclusive = new List<string>();
            string? previousKey = null;
            foreach (var pair in pairs)
            {
                var inPg = PostgreSqlMap.TryGetValue(pair.Key, out var pgCanonical);
                var inSqlite = SqliteMap.TryGetValue(pair.Key, out var sqliteCanonical);
                if (!inPg && !inSqlite)
                {
                    return UnknownKeyword(text, pair.Key, previousKey, pairs);
                }

                if (inPg && !inSqlite)
                {
                    AddOnce(pgExclusive, pgCanonical!);
                }
                else if (inSqlite && !inPg)
                {
                    AddOnce(sqliteExclusive, sqliteCanonical!);
                }

                previousKey = pair.Key;
            }

            if (pgExclusive.Count > 0 && sqliteExclusive.Count > 0)
            {
                return ParsedConnectionString.Failure(
                    "The connection string mixes PostgreSQL keywords (" + string.Join(", ", pgExclusive) +
                    ") and SQLite keywords (" + string.Join(", ", sqliteExclusive) + "). Use only Npgsql keywords " +
                    "(Host, Port, Database, Username, Password, ...) for PostgreSQL, or only Microsoft.Data.Sqlite " +
                    "keywords (Data Source, Mode, Cache, Password, ...) for SQLite.");
            }

            var kind = pgExclusive.Count > 0
                ? ConnectionStringKind.PostgreSql
                : sqliteExclusive.Count > 0 ? ConnectionStringKind.Sqlite : ConnectionStringKind.Unknown;

            var values = new OrderedValues();
            foreach (var pair in pairs)
            {
                values.Set(CanonicalFor(pair.Key, kind), pair.Value);
            }

            return Build(kind, values, isUrl: false);
        }

        private static ParsedConnectionString UnknownKeyword(
            string text,
            string key,
            string? previousKey,
            List<KeyValuePair<string, string>> pairs)
        {
            var kind = ConnectionStringKind.Unknown;
            var pg = false;
            var sqlite = false;
            foreach (var pair in pairs)
            {
                var inPg = PostgreSqlMap.ContainsKey(pair.Key);
                var inSqlite = SqliteMap.ContainsKey(pair.Key);
                pg |= inPg && !inSqlite;
                sqlite |= inSqlite && !inPg;
            }

            if (pg != sqlite)
            {
                kind = pg ? ConnectionStringKind.PostgreSql : ConnectionStringKind.Sqlite;
            }

            var suggestion = SuggestKeyword(key, kind);
            if ((previousKey is not null && IsPasswordKeyword(previousKey)) || FollowsPasswordSegment(text, key))
            {
                // "Password=ab;cd=ef": the "keyword" may be the rest of a password containing ';'. Never echo it, even
                // when it looks like a typo of a real keyword; the suggestion is a canonical name, not the user's text.
                return ParsedConnectionString.Failure(
                    "The connection string has an unknown keyword right after the password" +
                    (suggestion is not null ? " (did you mean '" + suggestion + "'?)" : string.Empty) +
                    ". If the password contains ';' or '=', enclose it in double quotes (doubling any inner double quote): Password=\"...\".",
                    kind,
                    suggestion: suggestion);
            }

            var written = OriginalSpelling(text, key);
            if (MayHoldSecret(written))
            {
                // "user:pw@host/db?x" or "Password secret" mis-split: a fragment with characters no keyword has, or
                // one that starts like a password keyword, may hold a secret.
                return ParsedConnectionString.Failure(
                    "The connection string has a segment before '=' that is not a keyword (not shown: it contains " +
                    "characters no keyword has, so it may hold a secret). Write 'Keyword=value' pairs separated by ';' " +
                    "(enclose values containing ';' or '=' in double quotes), or a URL such as " +
                    "postgresql://user:password@host:5432/database." +
                    (suggestion is not null ? " Did you mean '" + suggestion + "'?" : string.Empty),
                    kind,
                    suggestion: suggestion);
            }

            var message = "Unknown connection string keyword '" + written + "'.";
            message += suggestion is not null
                ? " Did you mean '" + suggestion + "'?"
                : " It is not a keyword of " + ProviderNames(kind) + "; check the spelling or remove it.";
            return ParsedConnectionString.Failure(message, kind, unknownKeyword: written, suggestion: suggestion);
        }

        private static string ProviderNames(ConnectionStringKind kind) => kind switch
        {
            ConnectionStringKind.PostgreSql => "Npgsql (PostgreSQL)",
            ConnectionStringKind.Sqlite => "Microsoft.Data.Sqlite (SQLite)",
            _ => "Npgsql (PostgreSQL) or Microsoft.Data.Sqlite (SQLite)",
        };

        private static string CanonicalFor(string key, ConnectionStringKind kind)
        {
            PostgreSqlMap.TryGetValue(key, out var pg);
            SqliteMap.TryGetValue(key, out var sqlite);
            switch (kind)
            {
                case ConnectionStringKind.PostgreSql:
                    return pg ?? key;
                case ConnectionStringKind.Sqlite:
                    return sqlite ?? key;
                default:
                    // Only keywords both providers know: pick a spelling both accept.
                    if (pg is not null && SqliteMap.ContainsKey(pg))
                    {
                        return pg;
                    }

                    if (sqlite is not null && PostgreSqlMap.ContainsKey(sqlite))
                    {
                        return sqlite;
                    }

                    return TableSpelling(key);
            }
        }

        private static string TableSpelling(string key)
        {
            foreach (var entry in SqliteTable)
            {
                if (string.Equals(entry.Keyword, key, StringComparison.OrdinalIgnoreCase))
                {
                    return entry.Keyword;
                }
            }

            return key;
        }

        private static bool TryTokenize(string text, out List<KeyValuePair<string, string>> pairs)
        {
            pairs = new List<KeyValuePair<string, string>>();
            var builder = new DbConnectionStringBuilder();
            try
            {
                builder.ConnectionString = text;
            }
            catch (ArgumentException)
            {
                // Its message may quote the raw string: never pass it on.
                return false;
            }

            foreach (string key in builder.Keys)
            {
                var value = Convert.ToString(builder[key], CultureInfo.InvariantCulture) ?? string.Empty;
                pairs.Add(new KeyValuePair<string, string>(key, value));
            }

            return true;
        }

        // DbConnectionStringBuilder lower-cases keywords; find the spelling the user wrote for messages.
        private static string OriginalSpelling(string text, string key)
        {
            foreach (var (start, _) in KeywordOccurrences(text, key))
            {
                return text.Substring(start, key.Length);
            }

            return key;
        }

        /// <summary>
        /// Where <paramref name="key"/> is written as a keyword in <paramref name="text"/> (at the start or after ';', with
        /// '=' after it, whitespace allowed around), with the index of the ';' before it (-1 at the start).
        /// </summary>
        private static IEnumerable<(int Start, int Separator)> KeywordOccurrences(string text, string key)
        {
            if (key.Length == 0)
            {
                yield break;
            }

            var index = 0;
            while (index <= text.Length - key.Length)
            {
                var found = text.IndexOf(key, index, StringComparison.OrdinalIgnoreCase);
                if (found < 0)
                {
                    yield break;
                }

                var before = found - 1;
                while (before >= 0 && char.IsWhiteSpace(text[before]))
                {
                    before--;
                }

                var after = found + key.Length;
                while (after < text.Length && char.IsWhiteSpace(text[after]))
                {
                    after++;
                }

                if ((before < 0 || text[before] == ';') && after < text.Length && text[after] == '=')
                {
                    yield return (found, before);
                }

                index = found + 1;
            }
        }

        private static void AddOnce(List<string> list, string item)
        {
            if (!list.Contains(item))
            {
                list.Add(item);
            }
        }
    }
}
