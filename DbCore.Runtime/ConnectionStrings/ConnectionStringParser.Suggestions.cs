#nullable enable

// Keyword suggestions: the closest known keyword to an unknown one ("did you mean ...?"), by optimal string
// alignment distance over squashed (case-, space-, '_'- and '-'-insensitive) spellings.
// Part of ConnectionStringParser (see ConnectionStringParser.cs). Like every ConnectionStringParser*.cs file it is
// compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators (netstandard2.0). Keep it free
// of provider types and of APIs missing on netstandard2.0.

using System;
using System.Text;

namespace DbCore.ConnectionStrings
{
    internal static partial class ConnectionStringParser
    {
        /// <summary>
        /// The closest known keyword (canonical spelling) to <paramref name="unknownKeyword"/>, comparing case- and
        /// space-insensitively with the Damerau-Levenshtein (optimal string alignment) distance; null when nothing is
        /// close (distance above 2 or above a third of the length).
        /// </summary>
        public static string? SuggestKeyword(string unknownKeyword, ConnectionStringKind kind)
        {
            if (unknownKeyword is null)
            {
                return null;
            }

            var probe = Squash(unknownKeyword);
            if (probe.Length == 0)
            {
                return null;
            }

            string? best = null;
            var bestDistance = int.MaxValue;

            void Scan(KeywordEntry[] table)
            {
                foreach (var entry in table)
                {
                    var distance = Distance(probe, Squash(entry.Keyword));
                    if (distance < bestDistance)
                    {
                        bestDistance = distance;
                        best = entry.Canonical;
                    }
                }
            }

            if (kind != ConnectionStringKind.Sqlite)
            {
                Scan(PostgreSqlTable);
            }

            if (kind != ConnectionStringKind.PostgreSql)
            {
                Scan(SqliteTable);
            }

            if (best is null || bestDistance > 2 || bestDistance * 3 > probe.Length)
            {
                return null;
            }

            return best;
        }

        // Lower-case and drop spaces, underscores and hyphens: "Data Source", "data_source" and "DataSource" compare equal.
        private static string Squash(string keyword)
        {
            var output = new StringBuilder(keyword.Length);
            foreach (var c in keyword)
            {
                if (c == ' ' || c == '_' || c == '-' || char.IsWhiteSpace(c))
                {
                    continue;
                }

                output.Append(char.ToLowerInvariant(c));
            }

            return output.ToString();
        }

        // Optimal string alignment distance (Levenshtein plus adjacent transpositions).
        private static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++)
            {
                d[i, 0] = i;
            }

            for (var j = 0; j <= b.Length; j++)
            {
                d[0, j] = j;
            }

            for (var i = 1; i <= a.Length; i++)
            {
                for (var j = 1; j <= b.Length; j++)
                {
                    var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                    var best = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                    if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    {
                        best = Math.Min(best, d[i - 2, j - 2] + 1);
                    }

                    d[i, j] = best;
                }
            }

            return d[a.Length, b.Length];
        }
    }
}
