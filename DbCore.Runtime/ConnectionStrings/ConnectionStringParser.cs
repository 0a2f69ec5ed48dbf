#nullable enable

// This file is compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators
// (netstandard2.0). Keep it free of provider types and of APIs missing on netstandard2.0.

using System;
using System.Collections.Generic;
using System.Data.Common;
using System.Globalization;
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
    internal static class ConnectionStringParser
    {
        internal const string UnparsableRedaction = "(unparsable connection string)";
        private const string Mask = "***";

        private const string CanonicalPassword = "Password";
        private const string CanonicalSslPassword = "SSL Password";
        private const string CanonicalDataSource = "Data Source";
        private const string CanonicalMode = "Mode";
        private const string MemoryDataSource = ":memory:";

        private static readonly char[] UserPartStoppers = { '/', '?', '#' };
        private static readonly char[] PathOrQueryStart = { '/', '?' };
        private static readonly char[] QuerySeparators = { '&' };
        private static readonly char[] HostSeparators = { ',' };
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        // Keyword tables: every spelling the provider's builder accepts (case-insensitively), with its canonical
        // spelling. Checked against the real builders by ConnectionStringParserTests (the drift test).

        // Npgsql 10: the DisplayName of every NpgsqlConnectionStringBuilder property, its synonyms, and the property
        // name itself (Npgsql also accepts "SslMode", "MinPoolSize", ...). Obsolete keywords are still accepted.
        private static readonly KeywordEntry[] PostgreSqlTable =
        {
            new("Host", "Host"), new("Server", "Host"),
            new("Port", "Port"),
            new("Database", "Database"), new("DB", "Database"),
            new("Username", "Username"), new("User Name", "Username"), new("UserId", "Username"),
            new("User Id", "Username"), new("UID", "Username"),
            new("Password", "Password"), new("PSW", "Password"), new("PWD", "Password"),
            new("Passfile", "Passfile"),
            new("Application Name", "Application Name"), new("ApplicationName", "Application Name"),
            new("Enlist", "Enlist"),
            new("Search Path", "Search Path"), new("SearchPath", "Search Path"),
            new("Client Encoding", "Client Encoding"), new("ClientEncoding", "Client Encoding"),
            new("Encoding", "Encoding"),
            new("Timezone", "Timezone"),
            new("SSL Mode", "SSL Mode"), new("SslMode", "SSL Mode"),
            new("SSL Negotiation", "SSL Negotiation"), new("SslNegotiation", "SSL Negotiation"),
            new("GSS Encryption Mode", "GSS Encryption Mode"), new("GssEncryptionMode", "GSS Encryption Mode"),
            new("SSL Certificate", "SSL Certificate"), new("SslCertificate", "SSL Certificate"),
            new("SSL Key", "SSL Key"), new("SslKey", "SSL Key"),
            new("SSL Password", "SSL Password"), new("SslPassword", "SSL Password"),
            new("Root Certificate", "Root Certificate"), new("RootCertificate", "Root Certificate"),
            new("Check Certificate Revocation", "Check Certificate Revocation"),
            new("CheckCertificateRevocation", "Check Certificate Revocation"),
            new("Kerberos Service Name", "Kerberos Service Name"), new("KerberosServiceName", "Kerberos Service Name"),
            new("Krbsrvname", "Kerberos Service Name"),
            new("Include Realm", "Include Realm"), new("IncludeRealm", "Include Realm"),
            new("Persist Security Info", "Persist Security Info"), new("PersistSecurityInfo", "Persist Security Info"),
            new("Log Parameters", "Log Parameters"), new("LogParameters", "Log Parameters"),
            new("Include Error Detail", "Include Error Detail"), new("IncludeErrorDetail", "Include Error Detail"),
            new("Include Failed Batched Command", "Include Failed Batched Command"),
            new("IncludeFailedBatchedCommand", "Include Failed Batched Command"),
            new("Channel Binding", "Channel Binding"), new("ChannelBinding", "Channel Binding"),
            new("Require Auth", "Require Auth"), new("RequireAuth", "Require Auth"),
            new("Pooling", "Pooling"),
            new("Minimum Pool Size", "Minimum Pool Size"), new("MinPoolSize", "Minimum Pool Size"),
            new("Maximum Pool Size", "Maximum Pool Size"), new("MaxPoolSize", "Maximum Pool Size"),
            new("Connection Idle Lifetime", "Connection Idle Lifetime"),
            new("ConnectionIdleLifetime", "Connection Idle Lifetime"),
            new("Connection Pruning Interval", "Connection Pruning Interval"),
            new("ConnectionPruningInterval", "Connection Pruning Interval"),
            new("Connection Lifetime", "Connection Lifetime"), new("ConnectionLifetime", "Connection Lifetime"),
            new("Load Balance Timeout", "Connection Lifetime"),
            new("Timeout", "Timeout"),
            new("Command Timeout", "Command Timeout"), new("CommandTimeout", "Command Timeout"),
            new("Cancellation Timeout", "Cancellation Timeout"), new("CancellationTimeout", "Cancellation Timeout"),
            new("Target Session Attributes", "Target Session Attributes"),
            new("TargetSessionAttributes", "Target Session Attributes"),
            new("Load Balance Hosts", "Load Balance Hosts"), new("LoadBalanceHosts", "Load Balance Hosts"),
            new("Host Recheck Seconds", "Host Recheck Seconds"), new("HostRecheckSeconds", "Host Recheck Seconds"),
            new("Keepalive", "Keepalive"), // the property name "KeepAlive" differs only in case
            new("TCP Keepalive", "TCP Keepalive"), new("TcpKeepAlive", "TCP Keepalive"),
            new("TCP Keepalive Time", "TCP Keepalive Time"), new("TcpKeepAliveTime", "TCP Keepalive Time"),
            new("TCP Keepalive Interval", "TCP Keepalive Interval"), new("TcpKeepAliveInterval", "TCP Keepalive Interval"),
            new("Read Buffer Size", "Read Buffer Size"), new("ReadBufferSize", "Read Buffer Size"),
            new("Write Buffer Size", "Write Buffer Size"), new("WriteBufferSize", "Write Buffer Size"),
            new("Socket Receive Buffer Size", "Socket Receive Buffer Size"),
            new("SocketReceiveBufferSize", "Socket Receive Buffer Size"),
            new("Socket Send Buffer Size", "Socket Send Buffer Size"),
            new("SocketSendBufferSize", "Socket Send Buffer Size"),
            new("Max Auto Prepare", "Max Auto Prepare"), new("MaxAutoPrepare", "Max Auto Prepare"),
            new("Auto Prepare Min Usages", "Auto Prepare Min Usages"), new("AutoPrepareMinUsages", "Auto Prepare Min Usages"),
            new("No Reset On Close", "No Reset On Close"), new("NoResetOnClose", "No Reset On Close"),
            new("Options", "Options"),
            new("Array Nullability Mode", "Array Nullability Mode"), new("ArrayNullabilityMode", "Array Nullability Mode"),
            new("Multiplexing", "Multiplexing"),
            new("Write Coalescing Buffer Threshold Bytes", "Write Coalescing Buffer Threshold Bytes"),
            new("WriteCoalescingBufferThresholdBytes", "Write Coalescing Buffer Threshold Bytes"),
            // Obsolete in Npgsql, still accepted by its builder.
            new("Load Table Composites", "Load Table Composites"), new("LoadTableComposites", "Load Table Composites"),
            new("Server Compatibility Mode", "Server Compatibility Mode"),
            new("ServerCompatibilityMode", "Server Compatibility Mode"),
            new("Trust Server Certificate", "Trust Server Certificate"),
            new("TrustServerCertificate", "Trust Server Certificate"),
            new("Internal Command Timeout", "Internal Command Timeout"),
            new("InternalCommandTimeout", "Internal Command Timeout"),
        };

        // Microsoft.Data.Sqlite 10: its Keys plus the synonyms DataSource, Filename and Command Timeout.
        private static readonly KeywordEntry[] SqliteTable =
        {
            new("Data Source", "Data Source"), new("DataSource", "Data Source"), new("Filename", "Data Source"),
            new("Mode", "Mode"),
            new("Cache", "Cache"),
            new("Password", "Password"),
            new("Foreign Keys", "Foreign Keys"),
            new("Recursive Triggers", "Recursive Triggers"),
            new("Default Timeout", "Default Timeout"), new("Command Timeout", "Default Timeout"),
            new("Pooling", "Pooling"),
            new("Vfs", "Vfs"),
        };

        private static readonly Dictionary<string, string> PostgreSqlMap = BuildMap(PostgreSqlTable);
        private static readonly Dictionary<string, string> SqliteMap = BuildMap(SqliteTable);

        private static readonly string[] SupportedPostgresQueryParameters =
        {
            "sslmode", "ssl", "application_name", "connect_timeout", "target_session_attrs", "options",
            "sslrootcert", "sslcert", "sslkey",
        };

        private static readonly string[] SupportedSqliteQueryParameters = { "mode", "cache", "timeout" };

        private static readonly string[] TargetSessionAttributeValues =
        {
            "any", "read-write", "read-only", "primary", "standby", "prefer-primary", "prefer-standby",
        };

        /// <summary>Every keyword (and synonym) Npgsql 10's <c>NpgsqlConnectionStringBuilder</c> accepts.</summary>
        internal static IReadOnlyList<string> PostgreSqlKeywords { get; } = KeywordsOf(PostgreSqlTable);

        /// <summary>Every keyword (and synonym) Microsoft.Data.Sqlite 10's <c>SqliteConnectionStringBuilder</c> accepts.</summary>
        internal static IReadOnlyList<string> SqliteKeywords { get; } = KeywordsOf(SqliteTable);

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

        // ---------------------------------------------------------------- keyword form

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
            if (previousKey is not null && IsPasswordKeyword(previousKey))
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
            if (key.Length == 0)
            {
                return key;
            }

            var index = 0;
            while (index <= text.Length - key.Length)
            {
                var found = text.IndexOf(key, index, StringComparison.OrdinalIgnoreCase);
                if (found < 0)
                {
                    break;
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
                    return text.Substring(found, key.Length);
                }

                index = found + 1;
            }

            return key;
        }

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
                    if (previousWasPassword)
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

        // ---------------------------------------------------------------- URL forms

        // "postgresql:/user:pw@host/db" or "sqlite:app.db": a known scheme with '://' mistyped. Reported as a URL
        // (without the user info) instead of a keyword-form error that would quote the whole fragment.
        private static ParsedConnectionString? MalformedUrl(string text)
        {
            var colon = text.IndexOf(':');
            if (colon <= 0)
            {
                return null;
            }

            var scheme = text.Substring(0, colon).ToLowerInvariant();
            var postgres = IsPostgresScheme(scheme);
            if (!postgres && !IsSqliteScheme(scheme))
            {
                return null;
            }

            // The scheme is quoted only when it is a plain name ("postgresql+asyncpg"), never a fragment of something else.
            if (Echo(scheme.Replace('+', '.')).Length == 0)
            {
                scheme = postgres ? "postgresql" : "sqlite";
            }

            return postgres
                ? UrlFailure("The connection string starts like a PostgreSQL URL but '" + scheme + ":' is not followed by " +
                             "'//'. Write " + scheme + "://user:password@host:5432/database.", ConnectionStringKind.PostgreSql)
                : UrlFailure("The connection string starts like a SQLite URL but '" + scheme + ":' is not followed by " +
                             "'//'. Write " + scheme + ":///relative.db, " + scheme + ":////absolute/path.db or " + scheme +
                             ":///:memory:.", ConnectionStringKind.Sqlite);
        }

        private static bool TryGetUrlScheme(string text, out string scheme, out string rest)
        {
            scheme = string.Empty;
            rest = string.Empty;
            var separator = text.IndexOf("://", StringComparison.Ordinal);
            if (separator <= 0)
            {
                return false;
            }

            if (!IsAsciiLetter(text[0]))
            {
                return false;
            }

            for (var i = 1; i < separator; i++)
            {
                var c = text[i];
                if (!(IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
                {
                    return false;
                }
            }

            scheme = text.Substring(0, separator).ToLowerInvariant();
            rest = text.Substring(separator + 3);
            return true;
        }

        private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

        private static bool IsPostgresScheme(string scheme) =>
            scheme == "postgres" || scheme == "postgresql" ||
            (scheme.StartsWith("postgres+", StringComparison.Ordinal) && scheme.Length > "postgres+".Length) ||
            (scheme.StartsWith("postgresql+", StringComparison.Ordinal) && scheme.Length > "postgresql+".Length);

        private static bool IsSqliteScheme(string scheme) =>
            scheme == "sqlite" ||
            (scheme.StartsWith("sqlite+", StringComparison.Ordinal) && scheme.Length > "sqlite+".Length);

        private static ParsedConnectionString ParseUrl(string scheme, string rest)
        {
            if (IsPostgresScheme(scheme))
            {
                return ParsePostgresUrl(rest);
            }

            if (IsSqliteScheme(scheme))
            {
                return ParseSqliteUrl(rest);
            }

            return ParsedConnectionString.Failure(
                "Unsupported connection string URL scheme '" + scheme + "://'. Use postgresql:// (also postgres:// and " +
                "postgresql+driver://), sqlite:///relative.db, sqlite:////absolute/path.db or sqlite:///:memory:, " +
                "or the ADO.NET keyword form.",
                isUrl: true);
        }

        // Splits "user:pass@hosts/db?query" into the user info (null when absent) and the rest. The user info ends
        // at the LAST '@', so a password with an unencoded '@', '/', '?' or ':' still ends up in the user info and
        // never in a host, path or error message. An '@' whose user part contains '/', '?' or '#' belongs to the
        // path or query instead (percent-encode '@' in query values as %40).
        private static void SplitUserInfo(string rest, out string? userInfo, out string hostPart)
        {
            userInfo = null;
            hostPart = rest;
            var at = rest.LastIndexOf('@');
            if (at < 0)
            {
                return;
            }

            var candidate = rest.Substring(0, at);
            var colon = candidate.IndexOf(':');
            var userPart = colon >= 0 ? candidate.Substring(0, colon) : candidate;
            if (userPart.IndexOfAny(UserPartStoppers) >= 0)
            {
                return;
            }

            userInfo = candidate;
            hostPart = rest.Substring(at + 1);
        }

        private static ParsedConnectionString ParsePostgresUrl(string rest)
        {
            const ConnectionStringKind Kind = ConnectionStringKind.PostgreSql;
            SplitUserInfo(rest, out var userInfo, out var hostPart);

            string? user = null;
            string? password = null;
            if (userInfo is not null)
            {
                var colon = userInfo.IndexOf(':');
                var rawUser = colon >= 0 ? userInfo.Substring(0, colon) : userInfo;
                if (!TryPercentDecode(rawUser, plusIsSpace: false, out user))
                {
                    return UrlFailure("The user name in the PostgreSQL URL has an invalid percent-encoding; encode " +
                                      "special characters as %XX (UTF-8).", Kind);
                }

                if (colon >= 0 && !TryPercentDecode(userInfo.Substring(colon + 1), plusIsSpace: false, out password))
                {
                    return UrlFailure("The password in the PostgreSQL URL has an invalid percent-encoding; encode " +
                                      "special characters such as '%', '@', '/', ':' and '?' as %XX (UTF-8).", Kind);
                }
            }

            var hostEnd = hostPart.IndexOfAny(PathOrQueryStart);
            var hostsText = hostEnd >= 0 ? hostPart.Substring(0, hostEnd) : hostPart;
            string? path = null;
            string? query = null;
            if (hostEnd >= 0)
            {
                var tail = hostPart.Substring(hostEnd);
                var queryStart = tail.IndexOf('?');
                if (queryStart >= 0)
                {
                    query = tail.Substring(queryStart + 1);
                    tail = tail.Substring(0, queryStart);
                }

                if (tail.Length > 0)
                {
                    path = tail.Substring(1); // drop the leading '/'
                }
            }

            if (hostsText.Length == 0)
            {
                return UrlFailure("The PostgreSQL URL has no host. Write postgresql://user:password@host:5432/database.", Kind);
            }

            var values = new OrderedValues();
            var hostError = ParseHosts(hostsText, values);
            if (hostError is not null)
            {
                return UrlFailure(hostError, Kind);
            }

            if (!string.IsNullOrEmpty(user))
            {
                values.Set("Username", user!);
            }

            if (password is not null)
            {
                values.Set(CanonicalPassword, password);
            }

            if (!string.IsNullOrEmpty(path))
            {
                if (!TryPercentDecode(path!, plusIsSpace: false, out var database))
                {
                    return UrlFailure("The database name in the PostgreSQL URL has an invalid percent-encoding; " +
                                      "encode special characters as %XX (UTF-8).", Kind);
                }

                if (database.Length > 0)
                {
                    values.Set("Database", database);
                }
            }

            if (query is not null)
            {
                var queryError = ParsePostgresQuery(query, values);
                if (queryError is not null)
                {
                    return UrlFailure(queryError, Kind);
                }
            }

            return Build(Kind, values, isUrl: true);
        }

        private static string? ParseHosts(string hostsText, OrderedValues values)
        {
            var entries = hostsText.Split(HostSeparators);
            var hosts = new List<KeyValuePair<string, string?>>();
            foreach (var entry in entries)
            {
                string host;
                string? port = null;
                if (entry.Length > 0 && entry[0] == '[')
                {
                    var close = entry.IndexOf(']');
                    if (close < 0)
                    {
                        return "An IPv6 host in the PostgreSQL URL is missing its closing ']'. Write [::1]:5432.";
                    }

                    host = entry.Substring(1, close - 1);
                    var after = entry.Substring(close + 1);
                    if (after.Length > 0)
                    {
                        if (after[0] != ':')
                        {
                            return "An IPv6 host in the PostgreSQL URL must be followed by ':port' or nothing. Write [::1]:5432.";
                        }

                        port = after.Substring(1);
                    }
                }
                else
                {
                    var colon = entry.IndexOf(':');
                    if (colon >= 0 && entry.IndexOf(':', colon + 1) >= 0)
                    {
                        return "An IPv6 host in the PostgreSQL URL must be enclosed in brackets, e.g. [::1]:5432.";
                    }

                    host = colon >= 0 ? entry.Substring(0, colon) : entry;
                    port = colon >= 0 ? entry.Substring(colon + 1) : null;
                }

                if (!TryPercentDecode(host, plusIsSpace: false, out var decodedHost) || decodedHost.Length == 0)
                {
                    return entries.Length > 1
                        ? "A host in the PostgreSQL URL's host list is empty or badly encoded. Write host1:5432,host2:5432."
                        : "The host in the PostgreSQL URL is empty or badly encoded. Write postgresql://user:password@host:5432/database.";
                }

                if (port is not null && !IsValidPort(port))
                {
                    // Never quoted: with the '@' lost, "user:password,host" puts the password where the port goes.
                    return "Invalid port in the PostgreSQL URL; a port is a number from 1 to 65535 (and a password goes " +
                           "before the '@': postgresql://user:password@host:5432/database).";
                }

                hosts.Add(new KeyValuePair<string, string?>(decodedHost, port));
            }

            if (hosts.Count == 1)
            {
                values.Set("Host", hosts[0].Key); // an IPv6 address goes in without brackets
                if (hosts[0].Value is not null)
                {
                    values.Set("Port", hosts[0].Value!);
                }

                return null;
            }

            // Npgsql's multi-host syntax: Host=a:5432,b:5433 (IPv6 in brackets).
            var joined = new StringBuilder();
            foreach (var host in hosts)
            {
                if (joined.Length > 0)
                {
                    joined.Append(',');
                }

                joined.Append(host.Key.IndexOf(':') >= 0 ? "[" + host.Key + "]" : host.Key);
                if (host.Value is not null)
                {
                    joined.Append(':').Append(host.Value);
                }
            }

            values.Set("Host", joined.ToString());
            return null;
        }

        /// <summary>Splits a URL query into percent-decoded name/value pairs (empty segments skipped); false on bad encoding.</summary>
        private static bool TryDecodeQuery(string query, out List<KeyValuePair<string, string>> parameters)
        {
            parameters = new List<KeyValuePair<string, string>>();
            foreach (var segment in query.Split(QuerySeparators))
            {
                if (segment.Length == 0)
                {
                    continue;
                }

                var equals = segment.IndexOf('=');
                var rawName = equals >= 0 ? segment.Substring(0, equals) : segment;
                var rawValue = equals >= 0 ? segment.Substring(equals + 1) : string.Empty;
                if (!TryPercentDecode(rawName, plusIsSpace: true, out var name) ||
                    !TryPercentDecode(rawValue, plusIsSpace: true, out var value))
                {
                    return false;
                }

                parameters.Add(new KeyValuePair<string, string>(name, value));
            }

            return true;
        }

        private static string? ParsePostgresQuery(string query, OrderedValues values)
        {
            if (!TryDecodeQuery(query, out var parameters))
            {
                return "A query parameter in the PostgreSQL URL has an invalid percent-encoding; encode special " +
                       "characters as %XX (UTF-8).";
            }

            foreach (var parameter in parameters)
            {
                var name = parameter.Key;
                var value = parameter.Value;
                switch (name.ToLowerInvariant())
                {
                    case "sslmode":
                    case "ssl":
                        var sslMode = MapSslMode(value);
                        if (sslMode is null)
                        {
                            return "Invalid " + name.ToLowerInvariant() + " value" + Echo(value) + " in the PostgreSQL URL; " +
                                   "use disable, allow, prefer, require, verify-ca or verify-full.";
                        }

                        values.Set("SSL Mode", sslMode);
                        break;
                    case "application_name":
                        values.Set("Application Name", value);
                        break;
                    case "connect_timeout":
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var timeout) ||
                            timeout > 1024)
                        {
                            return "Invalid connect_timeout value" + Echo(value) + " in the PostgreSQL URL; use whole " +
                                   "seconds from 0 to 1024 (Npgsql's limit).";
                        }

                        values.Set("Timeout", timeout.ToString(CultureInfo.InvariantCulture));
                        break;
                    case "target_session_attrs":
                        var attributes = value.ToLowerInvariant();
                        if (Array.IndexOf(TargetSessionAttributeValues, attributes) < 0)
                        {
                            return "Invalid target_session_attrs value" + Echo(value) + " in the PostgreSQL URL; use " +
                                   string.Join(", ", TargetSessionAttributeValues) + ".";
                        }

                        values.Set("Target Session Attributes", attributes);
                        break;
                    case "options":
                        values.Set("Options", value);
                        break;
                    case "sslrootcert":
                        values.Set("Root Certificate", value);
                        break;
                    case "sslcert":
                        values.Set("SSL Certificate", value);
                        break;
                    case "sslkey":
                        values.Set("SSL Key", value);
                        break;
                    default:
                        return "Unsupported query parameter" + Echo(name) + " in the PostgreSQL URL. Supported: " +
                               string.Join(", ", SupportedPostgresQueryParameters) + ". For other settings use the " +
                               "ADO.NET keyword form (Host=...;Port=...;Database=...).";
                }
            }

            return null;
        }

        private static string? MapSslMode(string value)
        {
            switch (value.ToLowerInvariant())
            {
                case "disable":
                case "false":
                    return "Disable";
                case "allow":
                    return "Allow";
                case "prefer":
                    return "Prefer";
                case "require":
                case "true":
                    return "Require";
                case "verify-ca":
                case "verifyca":
                    return "VerifyCA";
                case "verify-full":
                case "verifyfull":
                    return "VerifyFull";
                default:
                    return null;
            }
        }

        private static ParsedConnectionString ParseSqliteUrl(string rest)
        {
            const ConnectionStringKind Kind = ConnectionStringKind.Sqlite;
            var queryStart = rest.IndexOf('?');
            var pathPart = queryStart >= 0 ? rest.Substring(0, queryStart) : rest;
            var query = queryStart >= 0 ? rest.Substring(queryStart + 1) : null;

            string dataSource;
            if (pathPart.Length == 0)
            {
                dataSource = MemoryDataSource; // sqlite://
            }
            else if (pathPart[0] != '/')
            {
                return UrlFailure("A SQLite URL has no host: write sqlite:///relative.db, sqlite:////absolute/path.db " +
                                  "or sqlite:///:memory: (three slashes before a relative path, four before an absolute one).",
                    Kind);
            }
            else if (!TryPercentDecode(pathPart.Substring(1), plusIsSpace: false, out dataSource))
            {
                return UrlFailure("The path in the SQLite URL has an invalid percent-encoding; encode special " +
                                  "characters as %XX (UTF-8).", Kind);
            }

            if (dataSource.Length == 0)
            {
                dataSource = MemoryDataSource; // sqlite:///
            }

            var values = new OrderedValues();
            values.Set(CanonicalDataSource, dataSource);

            if (query is not null)
            {
                if (!TryDecodeQuery(query, out var parameters))
                {
                    return UrlFailure("A query parameter in the SQLite URL has an invalid percent-encoding; encode " +
                                      "special characters as %XX (UTF-8).", Kind);
                }

                foreach (var parameter in parameters)
                {
                    var name = parameter.Key;
                    var value = parameter.Value;
                    switch (name.ToLowerInvariant())
                    {
                        case "mode":
                            var mode = value.ToLowerInvariant() switch
                            {
                                "ro" => "ReadOnly",
                                "rw" => "ReadWrite",
                                "rwc" => "ReadWriteCreate",
                                "memory" => "Memory",
                                _ => null,
                            };
                            if (mode is null)
                            {
                                return UrlFailure("Invalid mode value" + Echo(value) + " in the SQLite URL; use ro, rw, " +
                                                  "rwc or memory.", Kind);
                            }

                            values.Set(CanonicalMode, mode);
                            break;
                        case "cache":
                            var cache = value.ToLowerInvariant() switch
                            {
                                "shared" => "Shared",
                                "private" => "Private",
                                _ => null,
                            };
                            if (cache is null)
                            {
                                return UrlFailure("Invalid cache value" + Echo(value) + " in the SQLite URL; use shared " +
                                                  "or private.", Kind);
                            }

                            values.Set("Cache", cache);
                            break;
                        case "timeout":
                            if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) ||
                                seconds > int.MaxValue)
                            {
                                return UrlFailure("Invalid timeout value" + Echo(value) + " in the SQLite URL; use seconds, " +
                                                  "e.g. timeout=30.", Kind);
                            }

                            values.Set("Default Timeout", ((int)Math.Ceiling(seconds)).ToString(CultureInfo.InvariantCulture));
                            break;
                        default:
                            return UrlFailure("Unsupported query parameter" + Echo(name) + " in the SQLite URL. Supported: " +
                                              string.Join(", ", SupportedSqliteQueryParameters) + ". For other settings " +
                                              "use the ADO.NET keyword form (Data Source=...;Mode=...).", Kind);
                    }
                }
            }

            return Build(Kind, values, isUrl: true);
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

        private static ParsedConnectionString UrlFailure(string message, ConnectionStringKind kind) =>
            ParsedConnectionString.Failure(message, kind, isUrl: true);

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

        private static bool IsValidPort(string port)
        {
            if (port.Length == 0 || port.Length > 5)
            {
                return false;
            }

            foreach (var c in port)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }

            var number = int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
            return number >= 1 && number <= 65535;
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

        private static bool TryPercentDecode(string text, bool plusIsSpace, out string decoded)
        {
            if (text.IndexOf('%') < 0 && (!plusIsSpace || text.IndexOf('+') < 0))
            {
                decoded = text;
                return true;
            }

            decoded = string.Empty;
            var output = new StringBuilder(text.Length);
            var bytes = new List<byte>();
            var i = 0;
            while (i < text.Length)
            {
                var c = text[i];
                if (c == '%')
                {
                    bytes.Clear();
                    while (i < text.Length && text[i] == '%')
                    {
                        if (i + 2 >= text.Length)
                        {
                            return false;
                        }

                        var high = HexValue(text[i + 1]);
                        var low = HexValue(text[i + 2]);
                        if (high < 0 || low < 0)
                        {
                            return false;
                        }

                        bytes.Add((byte)((high << 4) | low));
                        i += 3;
                    }

                    try
                    {
                        output.Append(StrictUtf8.GetString(bytes.ToArray()));
                    }
                    catch (ArgumentException)
                    {
                        return false;
                    }

                    continue;
                }

                output.Append(plusIsSpace && c == '+' ? ' ' : c);
                i++;
            }

            decoded = output.ToString();
            return true;
        }

        private static int HexValue(char c)
        {
            if (c >= '0' && c <= '9')
            {
                return c - '0';
            }

            if (c >= 'a' && c <= 'f')
            {
                return c - 'a' + 10;
            }

            if (c >= 'A' && c <= 'F')
            {
                return c - 'A' + 10;
            }

            return -1;
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

        private static Dictionary<string, string> BuildMap(KeywordEntry[] table)
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in table)
            {
                map[entry.Keyword] = entry.Canonical;
            }

            return map;
        }

        private static IReadOnlyList<string> KeywordsOf(KeywordEntry[] table)
        {
            var keywords = new string[table.Length];
            for (var i = 0; i < table.Length; i++)
            {
                keywords[i] = table[i].Keyword;
            }

            return Array.AsReadOnly(keywords);
        }

        private static void AddOnce(List<string> list, string item)
        {
            if (!list.Contains(item))
            {
                list.Add(item);
            }
        }

        private readonly struct KeywordEntry
        {
            public KeywordEntry(string keyword, string canonical)
            {
                Keyword = keyword;
                Canonical = canonical;
            }

            public string Keyword { get; }

            public string Canonical { get; }
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
