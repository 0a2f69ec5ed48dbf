#nullable enable

// The URL forms (postgres://, postgresql://, postgresql+driver://, sqlite:///, sqlite+driver:///): the scheme,
// user info, hosts, path and query parameters, and percent-decoding.
// Part of ConnectionStringParser (see ConnectionStringParser.cs). Like every ConnectionStringParser*.cs file it is
// compiled into DbCore.Runtime (net8.0;net10.0) and, linked, into DbCore.Generators (netstandard2.0). Keep it free
// of provider types and of APIs missing on netstandard2.0.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace DbCore.ConnectionStrings
{
    internal static partial class ConnectionStringParser
    {
        private static readonly char[] UserPartStoppers = { '/', '?', '#' };
        private static readonly char[] PathOrQueryStart = { '/', '?' };
        private static readonly char[] QuerySeparators = { '&' };
        private static readonly char[] HostSeparators = { ',' };
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

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

            if (userInfo is null && query is not null && query.IndexOf('@') >= 0)
            {
                // No user info was found because the part before the '@' holds a '?' (a ':' mistyped, or an unencoded '?' in
                // the password), so what reads as the query starts with the password: nothing of it may be echoed.
                return UrlFailure("The PostgreSQL URL has an '@' after its '?'. If that '@' ends the user info, percent-encode a '?' " +
                                  "in the user name or password as %3F (and check the ':' between them); an '@' in a query value must be %40.", Kind);
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

        private static ParsedConnectionString UrlFailure(string message, ConnectionStringKind kind) =>
            ParsedConnectionString.Failure(message, kind, isUrl: true);

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
    }
}
