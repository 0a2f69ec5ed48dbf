#nullable enable

// The entry points (Parse, Redact), the result types and the helpers both forms share. ConnectionStringParser is
// split by what it holds: ConnectionStringParser.KeywordTables.cs, .KeywordForm.cs, .Urls.cs, .Redaction.cs and
// .Suggestions.cs hold the rest.
// These files are compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators
// (netstandard2.0). Keep them free of provider types and of APIs missing on netstandard2.0.

using System;
using System.Collections.Generic;
using System.Data.Common;
using System.Text;

// One namespace in both assemblies: DbCore.Tests sees both copies' internals, and tells them apart with the
// 'generators' extern alias on its reference to DbCore.Generators.
namespace DbCore.ConnectionStrings
{
    /// <summary>The database provider a connection string is written for.</summary>
    internal enum ConnectionStringKind
    {
        /// <summary>The provider cannot be told from the connection string (or it did not parse).</summary>
        Unknown = 0,

        /// <summary>PostgreSQL through Npgsql.</summary>
        PostgreSql = 1,

        /// <summary>SQLite through Microsoft.Data.Sqlite.</summary>
        Sqlite = 2,
    }

    /// <summary>The result of <see cref="ConnectionStringParser.Parse(string?)"/>.</summary>
    internal sealed class ParsedConnectionString
    {
        private static readonly IReadOnlyDictionary<string, string> NoValues =
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        internal ParsedConnectionString(
            ConnectionStringKind kind,
            string normalized,
            bool isUrl,
            bool isInMemory,
            string? sqliteDataSource,
            bool hasPassword,
            IReadOnlyDictionary<string, string> values)
        {
            Kind = kind;
            Normalized = normalized;
            IsUrl = isUrl;
            IsInMemory = isInMemory;
            SqliteDataSource = sqliteDataSource;
            HasPassword = hasPassword;
            Values = values;
        }

        private ParsedConnectionString(
            ConnectionStringKind kind,
            bool isUrl,
            string error,
            string? unknownKeyword,
            string? suggestion)
        {
            Kind = kind;
            IsUrl = isUrl;
            Error = error;
            UnknownKeyword = unknownKeyword;
            Suggestion = suggestion;
            Values = NoValues;
        }

        /// <summary>The detected provider; <see cref="ConnectionStringKind.Unknown"/> when it cannot be told.</summary>
        public ConnectionStringKind Kind { get; }

        /// <summary>The ADO.NET keyword form with canonical keywords (URL forms converted); null when <see cref="Error"/> is set.</summary>
        public string? Normalized { get; }

        /// <summary>True when the input was a URL (<c>postgresql://...</c>, <c>sqlite:///...</c>).</summary>
        public bool IsUrl { get; }

        /// <summary>True for a SQLite in-memory database (<c>:memory:</c> or <c>Mode=Memory</c>).</summary>
        public bool IsInMemory { get; }

        /// <summary>The SQLite data source (file path or <c>:memory:</c>) when <see cref="Kind"/> is SQLite.</summary>
        public string? SqliteDataSource { get; }

        /// <summary>True when a non-empty password is present.</summary>
        public bool HasPassword { get; }

        /// <summary>Null when the string parsed; else what is wrong and how to fix it. Never contains the password.</summary>
        public string? Error { get; }

        /// <summary>The unknown keyword (as written) when <see cref="Error"/> is about one.</summary>
        public string? UnknownKeyword { get; }

        /// <summary>The closest known keyword to <see cref="UnknownKeyword"/>, or null.</summary>
        public string? Suggestion { get; }

        /// <summary>Canonical keyword (the provider's spelling, e.g. "Host", "Username", "Data Source") to value.</summary>
        public IReadOnlyDictionary<string, string> Values { get; }

        internal static ParsedConnectionString Failure(
            string error,
            ConnectionStringKind kind = ConnectionStringKind.Unknown,
            bool isUrl = false,
            string? unknownKeyword = null,
            string? suggestion = null) =>
            new ParsedConnectionString(kind, isUrl, error, unknownKeyword, suggestion);
    }

    /// <summary>
    /// Parses, classifies, normalizes and redacts DbCore connection strings: the ADO.NET keyword form of Npgsql and
    /// Microsoft.Data.Sqlite, and the URL forms <c>postgres://</c>, <c>postgresql://</c>, <c>postgresql+driver://</c>,
    /// <c>sqlite:///</c> and <c>sqlite+driver:///</c>.
    /// </summary>
    internal static partial class ConnectionStringParser
    {
        private const string CanonicalPassword = "Password";
        private const string CanonicalSslPassword = "SSL Password";
        private const string CanonicalDataSource = "Data Source";
        private const string CanonicalMode = "Mode";
        private const string MemoryDataSource = ":memory:";

        /// <summary>Parses a connection string in keyword or URL form. Never throws.</summary>
        public static ParsedConnectionString Parse(string? connectionString)
        {
            if (connectionString is null || string.IsNullOrWhiteSpace(connectionString))
            {
                return ParsedConnectionString.Failure(
                    "The connection string is empty. Set it to an ADO.NET keyword form such as " +
                    "'Host=localhost;Database=app;Username=app;Password=...' (PostgreSQL) or 'Data Source=app.db' (SQLite), " +
                    "or to a URL such as 'postgresql://user:password@localhost:5432/app' or 'sqlite:///app.db'.");
            }

            try
            {
                var text = connectionString.Trim();
                if (TryGetUrlScheme(text, out var scheme, out var rest))
                {
                    return ParseUrl(scheme, rest);
                }

                return MalformedUrl(text) ?? ParseKeywordForm(text);
            }
            catch (Exception)
            {
                // Defensive: a parser bug must not surface the raw string through an exception message.
                return ParsedConnectionString.Failure(
                    "The connection string could not be parsed. Use the ADO.NET keyword form 'Keyword=value;...' " +
                    "or a postgresql:// or sqlite:/// URL.");
            }
        }

        /// <summary>
        /// Returns the connection string with password values replaced by "***". Never throws; returns
        /// "(unparsable connection string)" when the input cannot be safely redacted.
        /// </summary>
        public static string Redact(string? connectionString)
        {
            if (connectionString is null || string.IsNullOrWhiteSpace(connectionString))
            {
                return string.Empty;
            }

            try
            {
                var text = connectionString.Trim();
                // Keep the scheme as written; only the password changes.
                return TryGetUrlScheme(text, out _, out var rest)
                    ? RedactUrl(text.Substring(0, text.Length - rest.Length - 3), rest)
                    : RedactKeywordForm(text);
            }
            catch (Exception)
            {
                return UnparsableRedaction;
            }
        }

        // ---------------------------------------------------------------- shared helpers

        private static ParsedConnectionString Build(ConnectionStringKind kind, OrderedValues values, bool isUrl)
        {
            var normalized = new StringBuilder();
            foreach (var key in values.Keys)
            {
                if (normalized.Length > 0)
                {
                    normalized.Append(';');
                }

                DbConnectionStringBuilder.AppendKeyValuePair(normalized, key, values.Map[key]);
            }

            var isInMemory = false;
            string? dataSource = null;
            if (kind == ConnectionStringKind.Sqlite)
            {
                values.Map.TryGetValue(CanonicalDataSource, out dataSource);
                dataSource ??= string.Empty;
                isInMemory = IsSqliteInMemory(dataSource) ||
                             (values.Map.TryGetValue(CanonicalMode, out var mode) &&
                              string.Equals(mode.Trim(), "Memory", StringComparison.OrdinalIgnoreCase));
            }

            var hasPassword = values.Map.TryGetValue(CanonicalPassword, out var password) && password.Length > 0;
            return new ParsedConnectionString(
                kind, normalized.ToString(), isUrl, isInMemory, dataSource, hasPassword, values.Map);
        }

        private static bool IsSqliteInMemory(string dataSource)
        {
            if (dataSource == MemoryDataSource)
            {
                return true;
            }

            // SQLite URI filenames: file::memory:?cache=shared, file:name?mode=memory
            if (!dataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            return dataSource.StartsWith("file::memory:", StringComparison.OrdinalIgnoreCase) ||
                   dataSource.IndexOf("mode=memory", StringComparison.OrdinalIgnoreCase) >= 0;
        }

        // Quotes a user-supplied token in an error message only when it is a short plain word: anything else could
        // be part of a mis-split secret.
        private static string Echo(string token)
        {
            if (token.Length == 0 || token.Length > 40)
            {
                return string.Empty;
            }

            foreach (var c in token)
            {
                if (!(IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
                {
                    return string.Empty;
                }
            }

            return " '" + token + "'";
        }

        // Canonical keyword -> value, remembering first-insertion order for the normalized string; last value wins.
        private sealed class OrderedValues
        {
            public List<string> Keys { get; } = new List<string>();

            public Dictionary<string, string> Map { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

            public void Set(string key, string value)
            {
                if (!Map.ContainsKey(key))
                {
                    Keys.Add(key);
                }

                Map[key] = value;
            }
        }
    }
}
